"""留言: a resident turns a problem into a ticket — describe → photos → place → confirm."""
from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum

from bot import kv, texts
from bot.engine import Finish, Flow, Next, Retry, Step
from bot.models import Grid
from bot.nlp import is_meaningful
from bot.talk import dates, safety, words
from bot.tickets import (
    Draft,
    _km,
    active_grids,
    assess,
    create_ticket,
    find_duplicate,
    follow_ticket,
    ticket_by_no,
    ticket_of_draft,
    tickets_since,
    valid_location,
)


class S(StrEnum):
    AWAIT_TEXT = "await_text"
    AWAIT_PHOTOS = "await_photos"
    AWAIT_PLACE = "await_place"
    AWAIT_CONFIRM = "await_confirm"


def offer_key(openid: str) -> str:
    """Where a long free text offered as a ticket waits for the resident's 留言."""
    return kv.key("offer", openid)


def _opts(turn) -> dict:
    return turn.ctx.cfg["leave_message"]


def _over_daily_limit(turn) -> str | None:
    ctx = turn.ctx
    limit = int(_opts(turn)["max_tickets_per_day"])
    midnight = datetime.combine(ctx.local(ctx.now).date(), time(0), tzinfo=ctx.bot.tz)
    if limit and tickets_since(ctx.session, ctx.resident(), midnight) >= limit:
        return texts.LM_RATE_LIMITED.format(n=limit)
    return None


def start(turn):
    """Refuses unsubscribed or over-limit residents; files a text offered a moment ago with its words.

    The offered words are the description (its safety advice was given with the offer), so
    only what is still missing is asked: the place, unless the resident's grid is known.
    """
    resident = turn.ctx.resident()
    if resident is None or not resident.subscribed:
        return Finish([turn.reply(texts.LM_NOT_SUBSCRIBED)])
    refusal = _over_daily_limit(turn)
    if refusal:
        return Finish([turn.reply(refusal)])
    offered = turn.ctx.kv_get(offer_key(resident.openid))
    if offered:
        turn.ctx.after_commit.append(lambda: turn.ctx.redis.delete(offer_key(resident.openid)))
        turn.data["text"] = offered
        turn.data["advised"] = [kind for kind, _ in safety.kinds_in(turn.ctx.cfg, offered)]
        # 返回 still leads back through the photo and description steps.
        turn.state["history"] = [S.AWAIT_TEXT.value, S.AWAIT_PHOTOS.value]
        taken = [turn.reply(texts.LM_OFFER_TAKEN.format(text=_preview(offered)))]
        if _bound_grid(turn) is not None:
            turn.state["history"].append(S.AWAIT_PLACE.value)
            return Next(S.AWAIT_CONFIRM, taken)
        return Next(S.AWAIT_PLACE, taken)
    return None


def _preview(text: str, n: int = 120) -> str:
    return text if len(text) <= n else text[:n] + "…"


def ask_text(turn):
    """Asks for the description, or shows the one so far with 用这段 / 重新描述."""
    if turn.data.get("text"):
        return texts.LM_ASK_TEXT_DRAFT.format(text=_preview(turn.data["text"]))
    return texts.LM_ASK_TEXT


def _keep_location(turn) -> bool:
    """A location shared before the place step is kept for it."""
    fields = turn.inbound.fields
    try:
        lat, lng = float(fields["Location_X"]), float(fields["Location_Y"])
    except (KeyError, TypeError, ValueError):
        return False
    if not valid_location(lat, lng):
        return False
    turn.data["shared"] = {"lat": lat, "lng": lng, "label": (fields.get("Label") or "").strip()[:200] or None}
    return True


def _add_text(turn, said: str) -> str | None:
    """Adds words to the description; the hint when it is full."""
    limit = int(_opts(turn)["max_chars"])
    current = turn.data.get("text", "")
    joined = (current + "\n" + said.strip()) if current else said.strip()
    if len(joined) > limit:
        return texts.LM_TEXT_FULL.format(n=len(current))
    turn.data["text"] = joined
    return None


def validate_text(raw: str, opts: dict) -> str | None:
    """A description worth a ticket: some words, not too short, not too long."""
    text = raw.strip()
    if not text or not is_meaningful(text) or not words.looks_like_words(text):
        return None
    if len(text) < int(opts["min_chars"]) or len(text) > int(opts["max_chars"]):
        return None
    return text


def text_hint(raw: str, opts: dict) -> str:
    """Says what was wrong with a description."""
    text = raw.strip()
    if not text or not is_meaningful(text):
        return texts.LM_TEXT_EMPTY
    if len(text) > int(opts["max_chars"]):
        return texts.LM_TEXT_TOO_LONG.format(n=len(text), max=opts["max_chars"])
    if not words.looks_like_words(text):
        return texts.LM_TEXT_NONSENSE
    return texts.LM_TEXT_TOO_SHORT.format(min=opts["min_chars"])


def handle_text(turn):
    """Stores the description and asks for photos; with a description already, adds to it."""
    inbound = turn.inbound
    if inbound.kind == "voice" and not inbound.text:
        if not inbound.fields.get("MediaId"):
            return Retry(texts.LM_VOICE_NO_TEXT)
        # #15: the voice itself is the description; the member listens to it.
        turn.data["text"], turn.data["voice"] = texts.VOICE_DESCRIPTION, inbound.fields["MediaId"]
        return Next(S.AWAIT_PHOTOS, [turn.reply(texts.LM_VOICE_KEPT)])
    if inbound.kind == "location":
        hint = texts.LM_LOCATION_KEPT if _keep_location(turn) else texts.LM_BAD_LOCATION
        return Retry(hint + "\n" + ask_text(turn))
    if inbound.kind == "image" and inbound.fields.get("MediaId"):
        photos = turn.data.setdefault("photos", [])
        if len(photos) < int(_opts(turn)["max_photos"]):
            photos.append(inbound.fields["MediaId"])
        return Retry(texts.LM_PHOTO_EARLY.format(n=len(photos)) + "\n" + ask_text(turn))
    if inbound.kind not in ("text", "voice"):
        return Retry(ask_text(turn))
    said = inbound.text
    if turn.data.get("text"):
        if said in texts.USE_TEXT_WORDS or words.is_yes(said) or words.is_done(said):
            return Next(S.AWAIT_PHOTOS)
        if said in texts.REDO_TEXT_WORDS:
            turn.data.pop("text", None)
            turn.forget_history()
            return Retry(texts.LM_TEXT_CLEARED + texts.LM_ASK_TEXT)
        if said in texts.ADD_TEXT_WORDS:
            return Retry(texts.LM_ASK_MORE)
        if not is_meaningful(said):
            return Retry(texts.LM_TEXT_EMPTY)
        if not words.looks_like_words(said):
            return Retry(texts.LM_TEXT_NONSENSE)
        full = _add_text(turn, said)
        return Retry(full or texts.LM_TEXT_ADDED + ask_text(turn))
    text = validate_text(said, _opts(turn))
    if text is None:
        return Retry(text_hint(inbound.text, _opts(turn)))
    turn.data["text"] = text
    return Next(S.AWAIT_PHOTOS)


def ask_photos(turn):
    return texts.LM_ASK_PHOTOS.format(max=_opts(turn)["max_photos"])


def handle_photos(turn):
    """Collects photos until the limit or 跳过 / 完成; a shared location skips ahead."""
    inbound = turn.inbound
    limit = int(_opts(turn)["max_photos"])
    photos = turn.data.setdefault("photos", [])
    if inbound.kind == "image":
        media_id = inbound.fields.get("MediaId")
        if not media_id:
            return Retry(texts.LM_PHOTO_HINT)
        photos.append(media_id)
        if len(photos) >= limit:
            return Next(S.AWAIT_PLACE, [turn.reply(texts.LM_PHOTO_FULL.format(n=len(photos)))])
        return Retry(texts.LM_PHOTO_OK.format(n=len(photos), left=limit - len(photos)))
    if inbound.kind == "location":
        return handle_place(turn)
    said = inbound.text
    if words.is_skip(said) or words.is_done(said) or words.is_no(said):
        return Next(S.AWAIT_PLACE)
    if said in texts.ADD_TEXT_WORDS:
        return Next(S.AWAIT_TEXT)
    if inbound.kind in ("text", "voice") and is_meaningful(said) and len(said) >= int(_opts(turn)["min_chars"]) \
            and not words.is_answer_word(said) and words.looks_like_words(said):
        # Words at the photo step explain the problem further: they join the description.
        full = _add_text(turn, said)
        return Retry(full or texts.LM_TEXT_ADDED_AT_PHOTOS + texts.LM_PHOTO_HINT)
    return Retry(texts.LM_PHOTO_HINT)


def _bound_grid(turn) -> Grid | None:
    resident = turn.ctx.resident()
    return turn.ctx.session.get(Grid, resident.grid_id) if resident and resident.grid_id else None


def ask_place(turn):
    shared = turn.data.get("shared")
    if shared:
        return texts.LM_ASK_PLACE_SHARED.format(label=shared.get("label") or texts.LM_SHARED_NO_LABEL)
    grid = _bound_grid(turn)
    if grid is not None:
        return texts.LM_ASK_PLACE_GRID.format(community=grid.community, grid=grid.name)
    return texts.LM_ASK_PLACE


def _late_photo(turn) -> str:
    """A photo sent after the photo step is kept with the others (up to the limit)."""
    photos = turn.data.setdefault("photos", [])
    media_id = turn.inbound.fields.get("MediaId")
    if media_id and len(photos) < int(_opts(turn)["max_photos"]):
        photos.append(media_id)
        return texts.LM_PHOTO_EARLY.format(n=len(photos))
    return texts.LM_PHOTO_FULL.format(n=len(photos)) if media_id else texts.LM_PHOTO_HINT


def handle_place(turn):
    """Takes a shared location, a typed address, or 不变 for the bound grid."""
    inbound, data = turn.inbound, turn.data
    if inbound.kind == "image":
        return Retry(_late_photo(turn) + "\n" + ask_place(turn))
    for key in ("lat", "lng", "address", "label"):
        data.pop(key, None)
    if inbound.kind == "location":
        if not _keep_location(turn):
            return Retry(texts.LM_BAD_LOCATION)
        return _use_shared(turn)
    if inbound.kind not in ("text", "voice") or not inbound.text:
        return Retry(ask_place(turn))
    keep = inbound.text in texts.KEEP_GRID_WORDS or words.is_yes(inbound.text)
    if keep and data.get("shared"):
        return _use_shared(turn)
    if keep and _bound_grid(turn) is not None:
        return Next(S.AWAIT_CONFIRM)
    address = inbound.text.strip()
    if len(address) < 4 or not is_meaningful(address):
        return Retry(texts.LM_PLACE_TOO_SHORT)
    data["address"] = address[:200]
    return Next(S.AWAIT_CONFIRM)


def _use_shared(turn):
    """Takes the shared location, unless it is far from every grid the platform serves."""
    shared = turn.data.pop("shared")
    grids = [g for g in turn.ctx.bot.cached("grids", active_grids) if g.lat is not None]
    limit = float(_opts(turn)["max_km_from_grid"])
    if grids and limit:
        nearest = min(_km(shared["lat"], shared["lng"], g.lat, g.lng) for g in grids)
        if nearest > limit:
            return Retry(texts.LM_LOCATION_FAR.format(km=round(nearest)))
    turn.data.update(lat=shared["lat"], lng=shared["lng"], address=shared.get("label"))
    return Next(S.AWAIT_CONFIRM)


def ask_confirm(turn):
    """Shows the summary: category, promised hours, urgency, and any similar open ticket."""
    ctx = turn.ctx
    resident = ctx.resident()
    draft = Draft.from_data(turn.data)
    found = assess(ctx.bot, ctx.session, resident, draft)
    dup = find_duplicate(ctx.session, resident, found.grid, draft.text, ctx.now)
    turn.data["duplicate"] = dup.no if dup else None
    notice, summary_text = "", texts.LM_SUMMARY
    if dup:
        template = texts.LM_DUP_OWN if dup.whose == "own" else texts.LM_DUP_GRID
        notice = template.format(no=dup.no, status=texts.STATUS_NAMES.get(dup.status, dup.status))
        summary_text = texts.LM_SUMMARY_DUP if dup.whose == "own" else texts.LM_SUMMARY_DUP_GRID
        turn.data["duplicate_own"] = dup.whose == "own"
    if found.priority == "urgent":
        notice = texts.LM_SUMMARY_URGENT + notice
    place = draft.address or (f"{found.grid.community}{found.grid.name}" if found.grid else "未说明")
    if draft.lat is not None and not draft.address:
        place = f"已发送的位置（{found.grid.name if found.grid else '未匹配到网格'}）"
    preview = draft.text if len(draft.text) <= 80 else draft.text[:80] + "…"
    summary = summary_text.format(text=preview, photos=len(draft.photos), place=place,
                                      category=found.category, response_h=_hours(found.response_h),
                                      reply_h=_hours(found.reply_h), duplicate=notice)
    advice = safety.advise_once(ctx.cfg, turn.data, draft.text)   # unless given as it was typed
    return [*(turn.reply(a) for a in advice), turn.reply(summary)]


def _hours(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def handle_confirm(turn):
    """确认 creates the ticket; 关注 follows the similar one instead."""
    ctx = turn.ctx
    if turn.inbound.kind == "location":
        return handle_place(turn)      # a place shared at the end replaces the one given
    if turn.inbound.kind == "image":
        return Next(S.AWAIT_CONFIRM, [turn.reply(_late_photo(turn))])
    said = turn.inbound.text
    resident = ctx.resident()
    made = ticket_of_draft(ctx.session, turn.data.get("draft_id"))
    if made is not None:   # confirmed before (a resend after a lost answer, a replay)
        return Finish([turn.reply(texts.LM_ALREADY_SUBMITTED.format(no=made.no))])
    duplicate = turn.data.get("duplicate")
    if said in texts.FOLLOW_WORDS and duplicate:
        ticket = ticket_by_no(ctx.session, duplicate)
        follow_ticket(ctx, resident, ticket)
        return Finish([turn.reply(texts.LM_FOLLOWED.format(no=ticket.no))])
    if duplicate and turn.data.get("duplicate_own") and words.normalise(said) not in texts.SUBMIT_ANYWAY_WORDS \
            and words.is_yes(said):
        # Beside a similar ticket 确认 could mean either: the resident chooses in so many words.
        return Retry(texts.LM_DUP_CHOOSE.format(no=duplicate))
    if not words.is_yes(said) and said not in texts.SUBMIT_ANYWAY_WORDS:
        if turn.inbound.kind in ("text", "voice") and is_meaningful(said) and words.looks_like_words(said) \
                and len(said) >= int(_opts(turn)["min_chars"]) and not words.is_answer_word(said):
            # More words about the problem join the description; the summary is shown again.
            full = _add_text(turn, said)
            return Retry(full) if full else Next(S.AWAIT_CONFIRM, [turn.reply(texts.LM_TEXT_ADDED_AT_PHOTOS)])
        return Retry(texts.LM_CONFIRM_HINT)
    refusal = _over_daily_limit(turn)
    if refusal:
        return Finish([turn.reply(refusal)])
    ticket, notices = create_ticket(ctx, resident, Draft.from_data(turn.data))
    if turn.data.get("voice"):   # #15
        from bot.participation.voice import keep
        keep(ctx, ticket, resident, turn.data["voice"], notices)
    urgent = ticket.priority == "urgent"
    done = texts.LM_CREATED.format(no=ticket.no, response_due=dates.plain(ctx, ticket.response_due_at, urgent),
                                   reply_due=dates.plain(ctx, ticket.reply_due_at, urgent))
    return Finish([turn.reply(done), *notices])


FLOW = Flow(
    name="leave_message",
    title=texts.FLOW_TITLES["leave_message"],
    accepts=("text", "voice", "image", "location"),
    channel="wechat",
    states=S,
    first=S.AWAIT_TEXT,
    keywords=("留言", "我要留言", "反映问题"),
    menu_keys=("LEAVE_MESSAGE",),
    help=texts.LM_HELP,
    start=start,
    durable=True,
    steps={
        S.AWAIT_TEXT: Step(ask=ask_text, handle=handle_text),
        S.AWAIT_PHOTOS: Step(ask=ask_photos, handle=handle_photos),
        S.AWAIT_PLACE: Step(ask=ask_place, handle=handle_place),
        S.AWAIT_CONFIRM: Step(ask=ask_confirm, handle=handle_confirm),
    },
)
