"""The SQL schema: organisation, residents, tickets and their events, appointments, points, outbox.

Times are stored as naive UTC and read back as aware UTC (UTCDateTime).
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    case,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as naive UTC; returns them aware (UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use the injected clock")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    pass


class Branch(Base):
    """A Party branch (支部) with its secretary."""

    __tablename__ = "branches"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secretary_id: Mapped[str | None] = mapped_column(String(64))


class Member(Base):
    """A Party member or secretary, known by WeCom userid."""

    __tablename__ = "members"
    userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    branch_id: Mapped[str | None] = mapped_column(ForeignKey("branches.id"))
    role: Mapped[str] = mapped_column(String(20), default="member")
    skills: Mapped[list] = mapped_column(JSON, default=list)
    away: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Grid(Base):
    """A grid (网格) of a community, served by one member and a backup."""

    __tablename__ = "grids"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    community: Mapped[str] = mapped_column(String(200), default="")
    branch_id: Mapped[str | None] = mapped_column(ForeignKey("branches.id"))
    households: Mapped[int] = mapped_column(Integer, default=0)
    member_id: Mapped[str | None] = mapped_column(String(64))
    backup_id: Mapped[str | None] = mapped_column(String(64))
    qr_scene: Mapped[str | None] = mapped_column(String(64), unique=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Department(Base):
    """A department a category routes to, with the members who handle its tickets."""

    __tablename__ = "departments"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # WeCom userids of members who take the department's tickets; the duty member first.
    handlers: Mapped[list] = mapped_column(JSON, default=list)
    duty_id: Mapped[str | None] = mapped_column(String(64))


class Category(Base):
    """A ticket category with its keywords, department and SLA overrides."""

    __tablename__ = "categories"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    department_id: Mapped[str | None] = mapped_column(String(64))
    response_h: Mapped[float | None] = mapped_column(Float)
    reply_h: Mapped[float | None] = mapped_column(Float)


class Resident(Base):
    """A resident who wrote to the Official Account, known by openid."""

    __tablename__ = "residents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(128), unique=True)
    grid_id: Mapped[str | None] = mapped_column(String(64))
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Ticket(Base):
    """A resident's issue; its current fields are kept in step with its events."""

    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    no: Mapped[str] = mapped_column(String(32), unique=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    grid_id: Mapped[str | None] = mapped_column(String(64), index=True)
    branch_id: Mapped[str | None] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(100), default="其他")
    department_id: Mapped[str | None] = mapped_column(String(64))
    assignee_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(32), default="new", index=True)
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    text: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(500))
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    photos: Mapped[list] = mapped_column(JSON, default=list)
    photos_pending: Mapped[int] = mapped_column(Integer, default=0, index=True)
    sentiment: Mapped[float | None] = mapped_column(Float)
    # jieba's keywords of the text, filled by the worker after creation (for hot topics).
    keywords: Mapped[list | None] = mapped_column(JSON)
    rating: Mapped[str | None] = mapped_column(String(16))
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    reply_remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    personal_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # #17: the 留言 draft this ticket was made from; confirming it twice finds this row.
    draft_id: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    # #17: when the next try at a photo download that failed is due (None: none waiting).
    photos_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (Index("ix_tickets_resident_status", "resident_id", "status"),
                      Index("ix_tickets_branch_created", "branch_id", "created_at"),
                      Index("ix_tickets_branch_status", "branch_id", "status"),
                      # #14: covering indexes, so the dashboard's period and overdue aggregates read
                      # the index alone (SQLite has no INCLUDE, hence all columns in the key).
                      Index("ix_tickets_dashboard", "branch_id", "created_at", "status", "category", "grid_id",
                            "priority", "first_response_at", "response_due_at", "first_reply_at", "reply_due_at",
                            "resolved_at", "reopen_count", "resident_id", "sentiment"),
                      Index("ix_tickets_running", "branch_id", "status", "first_response_at", "response_due_at",
                            "first_reply_at", "reply_due_at", "grid_id", "assignee_id"),
                      # #14: the summary job finds the days touched since its last run.
                      Index("ix_tickets_updated", "updated_at"))


# #14: the 督办台账 walks running tickets in the order of their current due time and stops at
# the page's length (the statuses are tickets.RUNNING_STATUSES, as literals so that a query
# naming them the same way can use this partial index; a test checks they agree).
LEDGER_STATUSES = ("assigned", "new", "reopened", "replied", "responded", "transferred")
LEDGER_DUE = case((Ticket.first_response_at.is_(None), Ticket.response_due_at), else_=Ticket.reply_due_at)
Index("ix_tickets_ledger", LEDGER_DUE, Ticket.id, postgresql_where=Ticket.status.in_(LEDGER_STATUSES),
      sqlite_where=Ticket.status.in_(LEDGER_STATUSES))


class TicketEvent(Base):
    """One change of a ticket; chained by hash so an edit is evident."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(140))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    # Filled by the sealer a few seconds after the event is written (see bot/audit.py).
    chain_seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    # #14: the dashboard counts resolutions and ratings of a period, and members' events of a day.
    __table_args__ = (Index("ix_ticket_events_kind_at", "kind", "at", "ticket_id"),
                      Index("ix_ticket_events_at", "at"))


class TicketFollower(Base):
    """A resident who follows someone else's ticket (关注, or their own ticket merged into it)."""

    __tablename__ = "ticket_followers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    via: Mapped[str] = mapped_column(String(16), default="follow")    # follow | merge
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A follower's own rating code; it is shown beside the reporter's and counts for nothing.
    rating: Mapped[str | None] = mapped_column(String(16))
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("ticket_id", "resident_id", name="uq_ticket_follower"),)


class Appointment(Base):
    """A booked seat on a Party member service day; the seat number enforces capacity."""

    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    branch_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[str | None] = mapped_column(String(64))
    service_type: Mapped[str] = mapped_column(String(64))
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    slot_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # The seat taken in the slot; cleared when cancelled, so the seat is free again.
    seat: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="booked")   # booked|cancelled|done|no_show
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # #17: the booking draft this appointment was made from; confirming twice finds this row.
    draft_id: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)

    __table_args__ = (UniqueConstraint("branch_id", "slot_start", "seat", name="uq_appointment_seat"),)


class PointsEntry(Base):
    """One award (or reversal) in a member's points ledger; never edited."""

    __tablename__ = "points_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(String(64), index=True)
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    appointment_id: Mapped[int | None] = mapped_column(Integer)
    award_key: Mapped[str] = mapped_column(String(200), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    chain_seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class OutboxMessage(Base):
    """A message waiting to be sent through a platform API, written with its cause."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_errcode: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # #17: sends that timed out after the request went out (the platform may have it).
    in_doubt: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_parked", "channel", "recipient", "status"),
    )


class OutboxAttempt(Base):
    """One delivery attempt of an outbox message and how it ended."""

    __tablename__ = "outbox_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    errcode: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(String(500))


class SlaNotice(Base):
    """A reminder or escalation sent for one ticket, stage (window), level and round: never twice."""

    __tablename__ = "sla_notices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))       # response | reply
    level: Mapped[str] = mapped_column(String(16))       # remind | escalate
    round: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("ticket_id", "stage", "level", "round", name="uq_sla_notice"),)


class ScheduledSend(Base):
    """A periodic send (digest, stars, alert, reminder) done for a scope and period: never twice."""

    __tablename__ = "scheduled_sends"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(128))
    period: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("kind", "scope", "period", name="uq_scheduled_send"),)


class AdminChange(Base):
    """An administrative change (organisation sync, erasure, retention, reversal), in the chain."""

    __tablename__ = "admin_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(140))
    action: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    chain_seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's last link: its sequence number and hash (one row; it serialises writers)."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class AuditAnchor(Base):
    """The chain head recorded each day, so a rewritten tail is caught too."""

    __tablename__ = "audit_anchors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[str] = mapped_column(String(10), unique=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


# -- #17 exactly once ------------------------------------------------------------------


class InboxEntry(Base):
    """A callback handled once: its identity and the passive reply it got, with its effects."""

    __tablename__ = "inbox"
    # The identity is the key itself: one index to write per callback, not two.
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    user: Mapped[str] = mapped_column(String(128), primary_key=True)
    dedupe_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    reply: Mapped[str | None] = mapped_column(Text)      # the passive reply's words; None: none
    at: Mapped[datetime] = mapped_column(UTCDateTime)    # pruned hourly by a scan: no index to write


class FlowDraft(Base):
    """A conversation that ends in a database write is under way (its state lives in Redis)."""

    __tablename__ = "flow_drafts"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    user: Mapped[str] = mapped_column(String(128), primary_key=True)
    flow: Mapped[str] = mapped_column(String(64))
    draft_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
# -- #15 participation: 工作日志, 代录, 公示 / 金点子 / 案例, 红色议事厅 ---------------------------

class WorkLog(Base):
    """A member's offline work (民意收集, 矛盾调解, 政策宣传, 走访…), logged in WeCom."""

    __tablename__ = "work_logs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    day: Mapped[str] = mapped_column(String(10))        # the local date, for the daily cap
    photo_media_id: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    points: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (Index("ix_work_logs_member_day", "member_id", "day"),)


class ProxyEntry(Base):
    """A ticket a member entered for a resident without WeChat (代录): the contact is personal data."""

    __tablename__ = "proxy_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(16))     # phone | desk
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    name: Mapped[str | None] = mapped_column(String(64))
    member_id: Mapped[str] = mapped_column(String(64), index=True)
    # Told to the resident by the member; with the phone it binds the ticket to their account.
    bind_code: Mapped[str | None] = mapped_column(String(12))
    bound_resident_id: Mapped[int | None] = mapped_column(Integer)
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Publicity(Base):
    """A ticket's publication: the reporter's consent, a secretary's hiding, a 金点子 mark."""

    __tablename__ = "publicity"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    consent: Mapped[bool | None] = mapped_column(Boolean)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_by: Mapped[str | None] = mapped_column(String(64))
    golden_by: Mapped[str | None] = mapped_column(String(64))
    golden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Case(Base):
    """A handled ticket in the branch's case library (创新案例库)."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    branch_id: Mapped[str | None] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(200))
    added_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class CouncilMeeting(Base):
    """A 红色议事厅 meeting of a branch: when, where, its notice and its resolution."""

    __tablename__ = "council_meetings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[str] = mapped_column(String(64), index=True)
    convener_id: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CouncilTopic(Base):
    """A topic proposed for the council: a ticket or a hot keyword; selected, then discussed."""

    __tablename__ = "council_topics"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[str] = mapped_column(String(64), index=True)
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    keyword: Mapped[str | None] = mapped_column(String(64))
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    selected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    meeting_id: Mapped[int | None] = mapped_column(Integer, index=True)
    resolution: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("branch_id", "ticket_id", name="uq_council_topic_ticket"),
                      UniqueConstraint("branch_id", "keyword", name="uq_council_topic_keyword"))


class CouncilFollowup(Base):
    """A follow-up ticket of a council resolution, assigned to a member with a due date."""

    __tablename__ = "council_followups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(Integer, index=True)
    topic_id: Mapped[int | None] = mapped_column(Integer)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)


class CouncilRegistration(Base):
    """A resident who replied 参加 to a meeting's notice."""

    __tablename__ = "council_registrations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(Integer, index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("meeting_id", "resident_id", name="uq_council_registration"),)


class CouncilSubscription(Base):
    """A resident's choice to get the grid's council notices (议事会通知 开/关)."""

    __tablename__ = "council_subscriptions"
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), primary_key=True)
    on: Mapped[bool] = mapped_column(Boolean, default=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


# -- #14 dashboard summaries: one row per local day and key, written only by
# bot/dashboard/summary.py (recomputing a day replaces its rows; safe to run twice).

class DashDaily(Base):
    """One local day's figures per branch, grid and category ('' for none).

    received … unscored count the tickets created that day; rated / satisfied the ratings
    given that day and resolved the tickets resolved that day (each ticket once a day).
    """

    __tablename__ = "dash_daily"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    branch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    grid_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0)
    responded: Mapped[int] = mapped_column(Integer, default=0)
    replied: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    met: Mapped[int] = mapped_column(Integer, default=0)
    negative: Mapped[int] = mapped_column(Integer, default=0)
    neutral: Mapped[int] = mapped_column(Integer, default=0)
    positive: Mapped[int] = mapped_column(Integer, default=0)
    unscored: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)


class DashHours(Base):
    """Histograms of the tickets created on a local day per branch: kinds 'response' and 'reply'
    count hours in buckets (see summary.bucket_of), 'handling' in the buckets 40 / 240 / 720 / 721
    (≤ 4 h, 24 h, 72 h, longer); kind 'due' counts tickets not replied
    to by the local midnight on or after their reply due time (bucket: days since 1970 of that
    midnight); kind 'resolved' counts tickets resolved that day (by the day of the resolution) by
    the day of their resolution before (bucket: days since 1970, 0 for none)."""

    __tablename__ = "dash_hours"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    branch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class DashWord(Base):
    """Keywords of the tickets created on a local day per branch and grid, with the residents who raised them."""

    __tablename__ = "dash_words"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    branch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    grid_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    keyword: Mapped[str] = mapped_column(String(64), primary_key=True)
    tickets: Mapped[int] = mapped_column(Integer, default=0)
    residents: Mapped[int] = mapped_column(Integer, default=0)
    latest: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DashMember(Base):
    """One member's local day: active (points or a ticket event that day), tickets first resolved by
    them that month (and of those on time and never reopened), ratings of their tickets, points."""

    __tablename__ = "dash_members"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    active: Mapped[int] = mapped_column(Integer, default=0)
    handled: Mapped[int] = mapped_column(Integer, default=0)
    good: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int] = mapped_column(Integer, default=0)


class DashMark(Base):
    """How far the summaries reach: days before `through` are summarised; `checked_at` is when the
    job last looked for tickets changed since."""

    __tablename__ = "dash_marks"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    through: Mapped[date] = mapped_column(Date)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
