"""What a handler or flow step gets: the message, a database session, the clock and the bot."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .inbound import Inbound
from .models import Member, Resident
from .replies import Reply, text


@dataclass
class Context:
    """One inbound message being handled, inside one database transaction."""

    bot: object
    session: Session
    inbound: Inbound
    now: datetime
    after_commit: list = field(default_factory=list)
    # Redis values read together with the person's lock (#19): key -> value (None: absent).
    prefetched: dict = field(default_factory=dict)
    _sender: object = field(default=None, repr=False)
    _pipe: object = field(default=None, repr=False)

    @property
    def cfg(self) -> dict:
        return self.bot.cfg

    @property
    def redis(self):
        """The Redis client; while the after-commit steps run, the pipeline they are queued on."""
        return self._pipe if self._pipe is not None else self.bot.redis

    def writes_to(self, pipe) -> None:
        """Queues Redis commands given through `redis` on `pipe` (None: send them at once again)."""
        self._pipe = pipe

    def kv_get(self, key: str):
        """A Redis value, from what was read with the lock when it was."""
        if key in self.prefetched:
            return self.prefetched[key]
        return self.bot.redis.get(key)

    def reply(self, content: str) -> Reply:
        """A text reply to the person who wrote."""
        return text(self.inbound.channel, self.inbound.user, content)

    def local(self, when: datetime) -> datetime:
        """A UTC time in the configured zone, for showing to people."""
        return when.astimezone(self.bot.tz)

    def resident(self) -> Resident | None:
        """The resident who wrote (Official Account only); looked up once per message."""
        if self.inbound.channel != "wechat":
            return None
        if self._sender is None:
            self._sender = self.session.scalar(select(Resident).where(Resident.openid == self.inbound.user))
        return self._sender

    def remember_resident(self, resident: Resident) -> None:
        """The resident who wrote, just created in this transaction."""
        self._sender = resident

    def member(self) -> Member | None:
        """The active member who wrote (WeCom only)."""
        if self.inbound.channel != "wecom":
            return None
        member = self.session.get(Member, self.inbound.user)
        return member if member is not None and member.active else None
