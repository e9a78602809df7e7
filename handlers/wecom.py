"""A member's text command in the WeCom app: 接单 / 回复 / 办结 / 转派 / 指派 / 我的工单 / 工单 / 督办."""
import re

from sqlalchemy import or_, select

from bot import booking, kv, points, texts, work
from bot.errors import Refused
from bot.models import Member, PointsEntry
from bot.participation import commands as participation
from bot.participation import worklog
from bot.replies import to_member
from bot.talk import words
from bot.talk.ticketno import resolve_ticket_no
from flows import ticket_action

from . import handles

AWARD = re.compile(r"^加分\s+(\S+)\s+(-?\d+)\s+(.+)$", re.S)
MARK = re.compile(r"^(到场|未到)\s*[Aa](\d+)$")
# A number: full (20261120-0007), without the dash, full-width, or its last digits; it ends at a space.
COMMAND = re.compile(r"^(接单|回复|办结|转派|指派|询问|工单|合并|关闭)"
                     r"\s*([0-9０-９][0-9０-９\-－]{0,12}(?=\s|$))?\s*(.*)$", re.S)
QUEUE_WORDS = ("我的工单", "待办")
OVERDUE_WORDS = ("督办", "督办台账", "超期")
POINTS_WORDS = ("积分", "我的积分")
ACTS = {"回复": work.reply, "办结": work.resolve, "转派": work.transfer, "指派": work.assign, "询问": work.ask,
        "合并": work.merge, "关闭": work.close_unresolved}
# #12: secretaries only; 关闭 also takes a resolved ticket nobody could fix.
SECRETARY_ACTS = {"指派", "合并", "关闭"}
CLOSABLE = (*work.OPEN_STATUSES, "resolved")


def run_command(ctx, member, said: str):
    """Parses and runs one command; a refusal is answered, nothing changed."""
    said = words.normalise(said) if len(said) <= 12 else said.strip()
    if said in QUEUE_WORDS:
        return [ctx.reply(work.queue_text(ctx, member))]
    if said in OVERDUE_WORDS:
        return [ctx.reply(work.overdue_text(ctx, member))]
    if words.is_help(said):
        return [ctx.reply(texts.MEMBER_MENU)]
    if words.is_cancel(said) or words.is_back(said):
        return [ctx.reply(texts.W_NOTHING_PENDING)]   # a flow in progress answers 取消 itself
    if words.is_ack(said) and not words.is_thanks(said):
        return [ctx.reply(texts.W_ACK)]
    if words.is_greeting(said) or words.is_thanks(said):
        return [ctx.reply(texts.MEMBER_GREETING)]
    if said == "签到":
        if check_in(ctx, member):
            return [ctx.reply(texts.PT_CHECKED_IN.format(n=ctx.cfg["points"]["checkin"]))]
        return [ctx.reply(texts.PT_ALREADY)]
    if said in POINTS_WORDS:
        return [ctx.reply(points_text(ctx, member))]
    if said.startswith("加分"):
        return award_innovation(ctx, member, said)
    extra = participation.run_member(ctx, member, said)   # #15: 日志 代录 金点子 案例 公示 议事会
    if extra is not None:
        return extra
    marked = MARK.match(said)
    if marked:
        return mark_appointment(ctx, member, int(marked.group(2)),
                                "done" if marked.group(1) == "到场" else "no_show")
    match = COMMAND.match(said)
    if match is None:
        return [ctx.reply(texts.W_UNKNOWN_COMMAND)]
    verb, rest = match.group(1), match.group(3).strip()
    no = resolve_ticket_no(ctx.session, member, match.group(2))
    if verb == "工单":
        return [ctx.reply(work.detail_text(ctx, work.ticket_for(ctx, member, no, verb,
                                                                allowed=tuple(texts.STATUS_NAMES))))]
    if verb == "接单":
        return work.accept(ctx, member, work.ticket_for(ctx, member, no, verb, allowed=work.CAN_ACCEPT))
    if verb in SECRETARY_ACTS and member.role != "secretary":
        work.refuse_role(ctx, member, no, verb)
    if verb == "合并" and (not no or not rest):
        raise Refused(texts.W_MERGE_USAGE)
    if verb == "合并":   # the ticket it joins may be typed short too
        rest = resolve_ticket_no(ctx.session, member, rest.split()[0])
    allowed = CLOSABLE if verb == "关闭" else work.OPEN_STATUSES
    ticket = work.ticket_for(ctx, member, no, verb, allowed=allowed)
    if verb == "指派":
        _check_assignee(ctx, member, rest)
    if verb == "办结" and rest and ticket_action.not_a_summary(rest):
        raise Refused(texts.W_WORDS_NOT_CONTENT.format(action=verb) + texts.W_EMPTY_SUMMARY.format(no=ticket.no))
    replies = ACTS[verb](ctx, member, ticket, rest)
    if verb == "回复" and replies:
        # The member sees exactly what the resident was sent.
        replies = [ctx.reply(texts.W_REPLIED_ECHO.format(no=ticket.no, text=rest)), *replies[1:]]
    return replies


def _check_assignee(ctx, secretary, name: str) -> None:
    """指派 names a member of the branch; otherwise say who can be named (not departments)."""
    found = ctx.session.scalar(select(Member).where(
        Member.active, Member.branch_id == secretary.branch_id, or_(Member.userid == name, Member.name == name)))
    if found is None:
        names = "、".join(m.name for m in ctx.session.scalars(select(Member).where(
            Member.active, Member.branch_id == secretary.branch_id).order_by(Member.userid)))
        raise Refused(texts.W_ASSIGN_UNKNOWN.format(target=name or "—", members=names or "—"))


def is_command(said: str) -> bool:
    """Whether a member's words are a command (they then win over words a flow waits for)."""
    said = said.strip()
    short = words.normalise(said)
    if short in (*QUEUE_WORDS, *OVERDUE_WORDS, *POINTS_WORDS, "签到") or said.startswith("加分"):
        return True
    if MARK.match(short):
        return True
    match = COMMAND.match(said)
    return match is not None and (match.group(2) is not None or said in ("接单", "工单"))


def check_in(ctx, member) -> bool:
    """The daily check-in: one point, once a day."""
    day = points.local_day_key(ctx.now, ctx.bot.tz)
    return points.award(ctx.session, member.userid, int(ctx.cfg["points"]["checkin"]), "每日签到",
                        f"checkin:{member.userid}:{day}", ctx.now) is not None


def points_text(ctx, member) -> str:
    """The member's points this month, rank in the branch, and latest entries."""
    month = ctx.local(ctx.now).strftime("%Y-%m")
    start, end = points.month_bounds(month, ctx.bot.tz)
    ranked = points.totals(ctx.session, start, end, member.branch_id)
    total = next((p for m, p in ranked if m.userid == member.userid), 0)
    entries = ctx.session.scalars(select(PointsEntry).where(
        PointsEntry.member_id == member.userid, PointsEntry.at >= start, PointsEntry.at < end)
        .order_by(PointsEntry.id.desc()).limit(8)).all()
    if not entries:
        return texts.PT_NONE
    lines = [texts.PT_MINE.format(month=f"{start.month}月", total=total,
                                  rank=points.rank_of(ranked, member.userid), n=len(ranked))]
    for e in entries:
        local = ctx.local(e.at)
        lines.append(texts.PT_LINE.format(day=f"{local.month}月{local.day}日", reason=e.reason,
                                          sign="+" if e.points >= 0 else "", points=e.points))
    return "\n".join(lines)


def award_innovation(ctx, secretary, said: str):
    """加分: a secretary awards 10–30 points for an adopted innovation to a member of the branch."""
    if secretary.role != "secretary":
        raise Refused(texts.W_SECRETARY_ONLY.format(action="加分"))
    rules = ctx.cfg["points"]
    low, high = int(rules["innovation_min"]), int(rules["innovation_max"])
    match = AWARD.match(said)
    if match is None:
        return [ctx.reply(texts.PT_AWARD_USAGE.format(low=low, high=high))]
    who, amount, reason = match.group(1), int(match.group(2)), match.group(3).strip()
    if not low <= amount <= high:
        return [ctx.reply(texts.PT_AWARD_RANGE.format(low=low, high=high))]
    target = ctx.session.scalar(select(Member).where(
        Member.active, Member.branch_id == secretary.branch_id, or_(Member.userid == who, Member.name == who)))
    if target is None:
        return [ctx.reply(texts.PT_AWARD_WHO.format(who=who))]
    points.award(ctx.session, target.userid, amount, f"创新加分：{reason[:60]}",
                 f"innovation:{ctx.inbound.dedupe_id}", ctx.now)
    return [ctx.reply(texts.PT_AWARDED.format(name=target.name, points=amount, reason=reason[:60])),
            to_member(target.userid, texts.PT_AWARDED_TOLD.format(points=amount, reason=reason[:60]))]


@handles("wecom", "event.enter_agent")
def entered(ctx):
    """Opening the app counts as the day's check-in (silently)."""
    member = ctx.member()
    if member is not None:
        check_in(ctx, member)
    return []


def mark_appointment(ctx, member, appointment_id: int, result: str):
    """到场 / 未到 A<id>: the member records how a service-day appointment went."""
    try:
        appointment = booking.mark(ctx.session, ctx.cfg, member, appointment_id, result, ctx.now)
    except ValueError:
        return [ctx.reply(texts.BK_MARK_TOO_EARLY.format(id=appointment_id))]
    if appointment is None:
        return [ctx.reply(texts.BK_MARK_NO_SUCH.format(id=appointment_id))]
    return [ctx.reply(texts.BK_MARKED.format(id=appointment_id, result=texts.BK_MARK_NAMES[result]))]


@handles("wecom", "image")
def member_image(ctx):
    """A member's photo after 办结 goes to the resident; with no ticket waiting for one, says so."""
    member = ctx.member()
    if member is None:
        return [ctx.reply(texts.MEMBER_UNKNOWN)]
    media_id = ctx.inbound.fields.get("MediaId") or ""
    if not ctx.redis.exists(kv.key(work.PHOTO_WAIT, member.userid)):   # #15: a photo of a work-log entry
        attached = worklog.attach_photo(ctx, member, media_id)
        if attached is not None:
            return attached
    return work.resolution_photo(ctx, member, media_id)


@handles("wecom", "location")
def member_location(ctx):
    """#15: a member's location right after a work-log entry is attached to it."""
    member = ctx.member()
    if member is None:
        return [ctx.reply(texts.MEMBER_UNKNOWN)]
    try:
        lat, lng = float(ctx.inbound.fields.get("Location_X")), float(ctx.inbound.fields.get("Location_Y"))
    except (TypeError, ValueError):
        lat = lng = None
    attached = worklog.attach_place(ctx, member, lat, lng) if lat is not None else None
    return attached or [ctx.reply(texts.W_UNKNOWN_COMMAND)]


@handles("wecom", "text")
def member_text(ctx):
    """Answers a member's command, or tells a stranger the app is for members."""
    member = ctx.member()
    if member is None:
        return [ctx.reply(texts.MEMBER_UNKNOWN)]
    try:
        return run_command(ctx, member, ctx.inbound.text)
    except Refused as refusal:
        return [ctx.reply(str(refusal))]
