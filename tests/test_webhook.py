"""The webhook pipeline as WeChat and WeCom see it: replies, refusals, replays, bad bodies."""
import random

import pytest
from sqlalchemy import select

from bot import create_app, texts
from bot.errors import BadRequest
from bot.inbound import parse_xml
from bot.models import Resident
from bot.simulator import Person
from bot.wire import Wire, render_message


def test_resident_text_in_safe_mode_gets_an_encrypted_passive_reply(client, people, bot):
    alice = people.resident("o-alice")
    query, body = alice.deliver({"MsgType": "text", "Content": "你好"})
    res = client.post("/wechat", query_string=query, data=body)
    assert res.status_code == 200
    assert b"<Encrypt>" in res.data and "你好".encode() not in res.data
    reply = alice.wire.open_reply(res.data)
    assert reply["ToUserName"] == "o-alice" and reply["MsgType"] == "text"
    assert "留言" in reply["Content"]
    with bot.db.session() as session:
        assert session.scalar(select(Resident.openid)) == "o-alice"


def test_member_text_gets_the_member_menu(people):
    assert "我的工单" in people.member("pm01").says("你好")


def test_stranger_in_wecom_is_told_the_app_is_for_members(people):
    assert people.member("nobody").says("你好") == texts.MEMBER_UNKNOWN


def test_plain_mode_official_account(settings, clock, fake):
    settings["wechat"]["encoding_aes_key"] = ""
    application = create_app(settings, clock=clock)
    application.extensions["bot"].redis.flushdb()

    def post(path, query, body):
        res = application.test_client().post(path, query_string=query, data=body)
        return res.status_code, res.data

    bob = Person(application.extensions["bot"].cfg, "wechat", "o-bob", post, now=clock.timestamp)
    query, body = bob.deliver({"MsgType": "text", "Content": "帮助"})
    assert b"<Encrypt>" not in body
    assert bob.resend(query, body)["Content"] == texts.RESIDENT_MENU


def test_wrong_signature_is_forbidden(client, people):
    query, body = people.resident("o-alice").deliver({"MsgType": "text", "Content": "hi"})
    query["msg_signature"] = "0" * 40
    assert client.post("/wechat", query_string=query, data=body).status_code == 403


def test_stale_timestamp_is_refused_and_window_zero_turns_it_off(settings, clock, fake):
    settings["security"] = {"replay_window_s": 300}
    application = create_app(settings, clock=clock)
    bot = application.extensions["bot"]
    bot.redis.flushdb()
    old = Person(bot.cfg, "wechat", "o-old", None, now=lambda: clock.timestamp() - 301)
    query, body = old.deliver({"MsgType": "text", "Content": "hi"})
    assert application.test_client().post("/wechat", query_string=query, data=body).status_code == 403
    settings["security"] = {"replay_window_s": 0}
    relaxed = create_app(settings, clock=clock)
    assert relaxed.test_client().post("/wechat", query_string=query, data=body).status_code == 200


def test_get_verification_with_wrong_signature_is_forbidden(client):
    res = client.get("/wechat", query_string={"signature": "x", "timestamp": "1", "nonce": "2",
                                              "echostr": "abc"})
    assert res.status_code == 403


def test_handler_exception_gives_an_apology_and_200(client, people, monkeypatch):
    def broken(ctx):
        raise RuntimeError("boom")

    monkeypatch.setattr("bot.webhook.dispatch", broken)
    alice = people.resident("o-alice")
    assert alice.says("你好") == texts.APOLOGY
    assert alice.last_status == 200


def _bad_bodies(person: Person, settings):
    """Malformed, wrongly signed, oversized, non-UTF-8, truncated and entity-expanding bodies."""
    rnd = random.Random(7)
    good_q, good_b = person.deliver({"MsgType": "text", "Content": "你好"})
    wire = person.wire
    bomb = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
            '<xml><Content>&c;</Content></xml>')
    external = '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><a>&x;</a></xml>'
    for i in range(1000):
        q = dict(good_q)
        choice = i % 12
        if choice == 0:
            body = good_b[: rnd.randrange(1, len(good_b))]                     # truncated
        elif choice == 1:
            body = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300)))  # noise
        elif choice == 2:
            body = b"x" * (settings["security"]["max_body_bytes"] + 1)            # oversized
        elif choice == 3:
            body = good_b
            q["msg_signature"] = "%040x" % rnd.getrandbits(160)                   # wrong signature
        elif choice == 4:
            body = "<xml><Encrypt>\xff\xfe</Encrypt></xml>".encode("latin-1")     # not UTF-8
        elif choice == 5:
            body = bomb.encode()                                                   # entity expansion
        elif choice == 6:
            body = external.encode()                                               # external entity
        elif choice == 7:
            q2, body = wire.build_callback("<xml><Content>no sender</Content></xml>", person.now())
            q = q2                                                                 # valid crypto, no user
        elif choice == 8:
            inner = "not xml at all " * rnd.randrange(1, 5)
            q, body = wire.build_callback(inner, person.now())                    # valid crypto, junk
        elif choice == 9:
            garbage = "".join(rnd.choice("ABCDEFabcdef0123456789+/") for _ in range(64)) + "=="
            body = f"<xml><Encrypt>{garbage}</Encrypt></xml>".encode()
            from bot.wire import sign
            q["msg_signature"] = sign(wire.token, q["timestamp"], q["nonce"], garbage)  # signed junk
        elif choice == 10:
            missing = rnd.choice(["timestamp", "nonce"])
            q = {k: v for k, v in q.items() if k != missing}
            body = good_b                                                          # missing params
        else:
            q["timestamp"] = "soon"
            body = good_b                                                          # bad timestamp
        yield q, body


def test_a_thousand_bad_bodies_get_only_400_or_403_and_serving_goes_on(client, people, settings):
    alice = people.resident("o-alice")
    statuses = {}
    for query, body in _bad_bodies(alice, {"security": {"max_body_bytes": 65536}}):
        res = client.post("/wechat", query_string=query, data=body)
        statuses[res.status_code] = statuses.get(res.status_code, 0) + 1
        assert b"Traceback" not in res.data
    assert set(statuses) <= {400, 403}, statuses
    assert statuses.get(400) and statuses.get(403)
    assert alice.says("帮助") == texts.RESIDENT_MENU


@pytest.mark.parametrize("path", ["/wechat", "/wecom"])
def test_get_without_parameters_is_a_400(client, path):
    assert client.get(path).status_code == 400


def test_unknown_route_is_a_json_404(client):
    res = client.get("/nowhere")
    assert res.status_code == 404 and res.is_json


def test_wecom_reply_is_encrypted_with_the_corp_id(people, settings):
    member = people.member("pm01")
    query, body = member.deliver({"MsgType": "text", "Content": "你好"})
    res = member.post("/wecom", query, body)
    wire = Wire("wecom", settings["wecom"]["token"], settings["wecom"]["encoding_aes_key"],
                settings["wecom"]["corp_id"])
    assert wire.open_reply(res[1])["ToUserName"] == "pm01"
    wrong = Wire("wecom", settings["wecom"]["token"], settings["wecom"]["encoding_aes_key"], "ww-other")
    with pytest.raises(BadRequest):
        wrong.open_reply(res[1])


def test_content_with_cdata_terminator_survives_the_round_trip(people):
    tricky = "路灯坏了]]><xml>还有&符号"
    assert parse_xml(render_message({"Content": tricky}))["Content"] == tricky
    resident = people.resident("o-x")
    for said in ("留言", tricky, "跳过"):
        resident.says(said)
    assert f"问题：{tricky}" in resident.says("幸福里社区3号楼")   # in the callback and in the reply
