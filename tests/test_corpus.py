"""Replays every callback payload of ../shared/wechat-corpus (other projects' test suites and
Tencent's examples) through both webhooks, twice each, the way the platforms would send it:
ids rewritten, signed, encrypted. Nothing may break, repeat, or answer the platform's own events."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.models import Base, OutboxMessage, Resident
from bot.simulator import Person

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "wechat-corpus"
PAYLOADS = sorted(CORPUS.glob("*.xml")) if CORPUS.is_dir() else []
# What a person does; every other event is the platform reporting something (the test's own
# list, from WeChat's customer-service docs and WeCom's app-event docs, not the bot's).
PERSON_EVENTS = {
    "wechat": {"subscribe", "unsubscribe", "scan", "click", "scancode_push", "scancode_waitmsg"},
    "wecom": {"subscribe", "unsubscribe", "click", "enter_agent", "template_card_event",
              "template_card_menu_event", "scancode_push", "scancode_waitmsg", "pic_sysphoto",
              "pic_photo_or_album", "pic_weixin", "location_select", "taskcard_click"},
}


def rewrite(raw: str, to: str, sender: str, agent_id: int) -> str:
    """Puts the test's own ids into a payload, keeping its padding and CDATA as they are."""
    def put(tag, value, text):
        pattern = re.compile(rf"(<{tag}>\s*)(<!\[CDATA\[.*?\]\]>|[^<]*?)(\s*</{tag}>)", re.S)
        return pattern.sub(lambda m: f"{m.group(1)}<![CDATA[{value}]]>{m.group(3)}", text, count=1)
    raw = put("ToUserName", to, raw)
    raw = put("FromUserName", sender, raw)
    return put("AgentID", str(agent_id), raw) if "<AgentID>" in raw else raw


def event_of(raw: str) -> str | None:
    """The Event of a payload, lower-cased; None for a message."""
    msg_type = re.search(r"<MsgType>\s*(?:<!\[CDATA\[)?\s*([^<\]\s]+)", raw)
    if not msg_type or msg_type.group(1).lower() != "event":
        return None
    event = re.search(r"<Event>\s*(?:<!\[CDATA\[)?\s*([^<\]\s]+)", raw)
    return event.group(1).lower() if event else ""


def row_counts(bot) -> dict:
    with bot.db.session() as session:
        return {t.name: session.scalar(select(func.count()).select_from(t))
                for t in Base.metadata.sorted_tables}


def test_the_corpus_is_there():
    """CI checks out ../shared beside the clone; without it the replay below would prove nothing."""
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is not here (CI has it beside the clone)")
    assert len(PAYLOADS) >= 225


@pytest.mark.parametrize("channel", ["wechat", "wecom"])
def test_every_corpus_payload_twice_through_the_webhook(app, bot, clock, channel, caplog):
    if not PAYLOADS:
        pytest.skip(f"{CORPUS} is not here (CI has it beside the clone)")
    caplog.set_level(logging.INFO)
    statuses: dict[int, int] = {}
    problems = []
    post = lambda path, query, body: (lambda r: (r.status_code, r.data))(  # noqa: E731
        app.test_client().post(path, query_string=query, data=body))
    for i, path in enumerate(PAYLOADS):
        raw = path.read_text(encoding="utf-8")
        sender = f"o-corpus-{i}" if channel == "wechat" else f"corpus{i}"
        person = Person(bot.cfg, channel, sender, post, now=clock.timestamp)
        xml = rewrite(raw, person.to, sender, bot.cfg["wecom"]["agent_id"])
        query, body = person.wire.build_callback(xml, clock.timestamp())
        event = event_of(raw)
        system = event is not None and event not in PERSON_EVENTS[channel]
        outbox_before = row_counts(bot)["outbox"]
        first = post(person.path, query, body)
        after_first = row_counts(bot)
        second = post(person.path, query, body)
        after_second = row_counts(bot)
        for status, _ in (first, second):
            statuses[status] = statuses.get(status, 0) + 1
            if status >= 500:
                problems.append(f"{path.name}: HTTP {status}")
        if after_second != after_first:
            changed = {k: (after_first[k], v) for k, v in after_second.items() if after_first[k] != v}
            problems.append(f"{path.name}: the second delivery changed {changed}")
        if first[0] == 200 and person.wire.open_reply(first[1]) != person.wire.open_reply(second[1]):
            problems.append(f"{path.name}: the second delivery was answered differently")
        if system:
            if first[0] == 200 and person.wire.open_reply(first[1]):
                problems.append(f"{path.name}: system event {event!r} got a passive reply")
            if after_first["outbox"] != outbox_before:
                problems.append(f"{path.name}: system event {event!r} queued a message")
            with bot.db.session() as session:
                if session.scalar(select(Resident).where(Resident.openid == sender)) is not None:
                    problems.append(f"{path.name}: system event {event!r} made {sender} a resident")
        clock.advance(seconds=1)
    tracebacks = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.exc_info]
    assert problems == []
    assert tracebacks == []
    assert statuses.get(200, 0) >= len(PAYLOADS)   # most payloads are handled, not refused
    with bot.db.session() as session:   # nothing queued for anyone the platform spoke for
        recipients = set(session.scalars(select(OutboxMessage.recipient)).all())
    system_senders = {f"o-corpus-{i}" if channel == "wechat" else f"corpus{i}"
                      for i, p in enumerate(PAYLOADS)
                      if (e := event_of(p.read_text(encoding="utf-8"))) is not None
                      and e not in PERSON_EVENTS[channel]}
    assert recipients & system_senders == set()
