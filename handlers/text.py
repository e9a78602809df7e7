"""A resident's text outside any flow: help, my tickets, or a long text offered as a ticket."""
import re

from sqlalchemy import select

from bot import texts, work
from bot.models import Appointment, Grid, Ticket
from bot.nlp import is_meaningful
from bot.participation import commands as participation
from bot.tickets import my_tickets_text, when
from flows import book_service, rate
from flows.leave_message import offer_key

from . import handles

MY_TICKETS_WORDS = ("查询", "我的留言", "进度", "我的工单")
RATE_NO = re.compile(r"^评价\s*(\d{8}-\d{4})$")
OFFER_TTL_S = 1800


def read_text(ctx, said: str):
    """Answers words a resident sends outside a flow (typed, or spoken and recognised)."""
    extra = participation.run_resident(ctx, said)   # #15: 绑定手机, 参加, 议事会通知 开/关, 公示
    if extra is not None:
        return extra
    booked = book_service.my_appointments(ctx, said)
    if booked is not None:
        return booked
    named = RATE_NO.match(said)
    if named:
        return rate.start_for(ctx, named.group(1))
    if said in texts.RATE_WORDS:
        waiting = rate.waiting_ticket(ctx, ctx.resident())
        if waiting is not None:
            return rate.rate_now(ctx, waiting, texts.RATE_WORDS[said])
    if said in ("我的数据", "我的信息"):
        return [ctx.reply(my_data_text(ctx, ctx.resident()) + texts.MY_DATA_BIND_HINT)]   # #15 绑定手机
    if said in MY_TICKETS_WORDS:
        return [ctx.reply(my_tickets_text(ctx, ctx.resident()))]
    if said in texts.HELP_WORDS or said in ("你好", "您好", "菜单"):
        return [ctx.reply(texts.RESIDENT_MENU)]
    waiting = work.waiting_for(ctx.session, ctx.resident())
    if waiting is not None and is_meaningful(said):
        return work.answer_question(ctx, ctx.resident(), waiting, said)
    if len(said) >= int(ctx.cfg["leave_message"]["offer_ticket_chars"]) and is_meaningful(said):
        text = said[: int(ctx.cfg["leave_message"]["max_chars"])]
        key = offer_key(ctx.inbound.user)
        ctx.after_commit.append(lambda: ctx.redis.set(key, text, ex=OFFER_TTL_S))
        preview = text if len(text) <= 40 else text[:40] + "…"
        return [ctx.reply(texts.LM_OFFER.format(preview=preview))]
    return [ctx.reply(texts.RESIDENT_HINT)]


def my_data_text(ctx, resident) -> str:
    """Everything held about the resident who asks (their own data, unmasked)."""
    session = ctx.session
    tickets = session.scalars(select(Ticket).where(Ticket.resident_id == resident.id)
                              .order_by(Ticket.id)).all()
    appointments = session.scalars(select(Appointment).where(Appointment.resident_id == resident.id)
                                   .order_by(Appointment.id)).all()
    grid = session.get(Grid, resident.grid_id) if resident.grid_id else None
    ticket_lines = "\n".join(texts.MY_DATA_TICKET.format(
        no=t.no, status=texts.STATUS_NAMES.get(t.status, t.status), text=t.text[:40]) for t in tickets)
    appointment_lines = "\n".join(texts.MY_DATA_APPOINTMENT.format(
        when=when(ctx, a.slot_start), type=a.service_type, status=a.status) for a in appointments)
    return texts.MY_DATA.format(
        subscribed="已关注" if resident.subscribed else "未关注",
        grid=f"{grid.community}{grid.name}" if grid else "未绑定", since=when(ctx, resident.created_at),
        tickets=len(tickets), ticket_lines=ticket_lines or texts.MY_DATA_NONE,
        appointments=len(appointments), appointment_lines=appointment_lines or texts.MY_DATA_NONE)


@handles("wechat", "text")
def resident_text(ctx):
    """Shows the menu, the resident's tickets, or offers a long text as a ticket."""
    return read_text(ctx, ctx.inbound.text)
