"""工作日志: a member logs offline work; points per kind once per entry, a daily cap, a photo or place after."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from .. import kv, points, texts
from ..errors import Refused
from ..models import WorkLog

ATTACH = "worklog-attach"


def kinds(cfg: dict) -> dict:
    """The configured kinds of work and their points."""
    return dict(cfg["worklog"]["kinds"])


def entries_on(session, userid: str, day: str) -> int:
    """How many entries a member logged on a local day."""
    return session.scalar(select(func.count()).select_from(WorkLog).where(
        WorkLog.member_id == userid, WorkLog.day == day)) or 0


def log_work(ctx, member, rest: str) -> list:
    """日志 <kind> <text>: stores the entry, awards its points once, and waits a while for a photo or place."""
    known = kinds(ctx.cfg)
    parts = (rest or "").split(maxsplit=1)
    if not parts or parts[0] not in known:
        raise Refused(texts.LOG_USAGE.format(kinds="、".join(known)))
    kind, text = parts[0], (parts[1].strip() if len(parts) > 1 else "")
    if not text:
        raise Refused(texts.LOG_EMPTY.format(kind=kind))
    day = points.local_day_key(ctx.now, ctx.bot.tz)
    cap = int(ctx.cfg["worklog"]["daily_cap"])
    done = entries_on(ctx.session, member.userid, day)
    if done >= cap:
        raise Refused(texts.LOG_CAP.format(cap=cap))
    entry = WorkLog(member_id=member.userid, kind=kind, text=text[:1000], day=day, points=int(known[kind]),
                    at=ctx.now)
    ctx.session.add(entry)
    ctx.session.flush()
    if entry.points > 0:   # once per entry: the key names it
        points.award(ctx.session, member.userid, entry.points, texts.LOG_POINTS_REASON.format(kind=kind),
                     f"worklog:{entry.id}", ctx.now)
    minutes = int(ctx.cfg["worklog"]["attach_minutes"])
    key, entry_id, redis = kv.key(ATTACH, member.userid), entry.id, ctx.redis
    ctx.after_commit.append(lambda: redis.set(key, entry_id, ex=minutes * 60))
    return [ctx.reply(texts.LOG_SAVED.format(kind=kind, points=entry.points, n=done + 1, minutes=minutes))]


def _waiting(ctx, member) -> WorkLog | None:
    entry_id = ctx.redis.get(kv.key(ATTACH, member.userid))
    return ctx.session.get(WorkLog, int(entry_id)) if entry_id else None


def attach_photo(ctx, member, media_id: str) -> list | None:
    """A photo right after a log entry belongs to it; None when no entry waits for one."""
    entry = _waiting(ctx, member)
    if entry is None or not media_id or entry.photo_media_id:
        return None
    entry.photo_media_id = media_id
    return [ctx.reply(texts.LOG_PHOTO_SAVED.format(kind=entry.kind))]


def attach_place(ctx, member, lat: float, lng: float) -> list | None:
    """A location right after a log entry belongs to it; None when no entry waits for one."""
    entry = _waiting(ctx, member)
    if entry is None:
        return None
    entry.lat, entry.lng = lat, lng
    return [ctx.reply(texts.LOG_PLACE_SAVED.format(kind=entry.kind))]


def log_count(session, start: datetime, end: datetime, branch_id: str | None = None) -> int:
    """Work-log entries in a period (of a branch's members): for the digest and the dashboard."""
    from ..models import Member
    query = select(func.count()).select_from(WorkLog).where(WorkLog.at >= start, WorkLog.at < end)
    if branch_id:
        query = query.where(WorkLog.member_id.in_(select(Member.userid).where(Member.branch_id == branch_id)))
    return session.scalar(query) or 0


def log_moments(session, userid: str, start: datetime, end: datetime) -> list[datetime]:
    """When a member logged work in a period (appraisal participation counts these days)."""
    return list(session.scalars(select(WorkLog.at).where(
        WorkLog.member_id == userid, WorkLog.at >= start, WorkLog.at < end)))
