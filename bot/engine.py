"""The flow engine: conversations declared as state machines, their state kept in Redis.

A flow names its states (a StrEnum), its entry words and menu keys, one Step per state
and a TTL. A step's `ask` says what the state wants; its `handle` reads the answer and
returns Next(state), Retry(hint) or Finish(replies). 取消 / 返回 / 帮助 work in every
state. Before a step reads the words, the channel's interrupt (registered with the flows)
may claim the message: a member command ends a pending wait, a resident's 查询 is answered
and the question asked again, a QR scan binds the grid, unfollowing ends the flow. Typing
another flow's entry word after the first step asks before leaving the current one. Events a
flow does not take go to their handler and leave the flow as it was. State is read after
the per-user lock is taken and written only after the database transaction of the same
message has committed.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Callable

from . import caching, kv, texts
from .errors import BotError, RegistrationError
from .reliability import drafts
from .replies import Reply
from .talk import words

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Next:
    """Go to `state` (and ask its question), after sending `replies`."""

    state: StrEnum
    replies: list = field(default_factory=list)


@dataclass(frozen=True)
class Retry:
    """Stay in this state; tell the person what was wrong."""

    hint: str


@dataclass(frozen=True)
class Finish:
    """End the conversation with these replies."""

    replies: list = field(default_factory=list)


@dataclass(frozen=True)
class Step:
    """What a state asks, and how it reads the answer."""

    ask: Callable
    handle: Callable


@dataclass
class Flow:
    """A declared conversation."""

    name: str
    channel: str
    states: type[StrEnum]
    first: StrEnum
    steps: dict
    keywords: tuple = ()
    menu_keys: tuple = ()
    help: str = ""
    ttl_s: int | None = None
    start: Callable | None = None  # optional: prepare data, or refuse with Finish
    # Ends in a database write (#17): a draft id is carried into the row it creates, and
    # a draft Redis lost is told as such (texts.DRAFT_LOST[name]).
    durable: bool = False
    accepts: tuple = ("text", "voice")  # inbound kinds a step reads; events not listed go to handlers
    title: str = ""         # how the flow is named when asking whether to leave it
    cancelled: str = texts.CANCELLED
    # (turn, state) -> Next/Retry/Finish or None: where 算了 / 取消 is itself an answer (#20)
    on_cancel: Callable | None = None


@dataclass(frozen=True)
class Interrupt:
    """A message the channel answers itself in the middle of a flow.

    `end` closes the flow (a member's command, unfollowing); otherwise the current
    question is asked again after the replies.
    """

    replies: list
    end: bool = False


@dataclass
class Turn:
    """One message inside a flow: the context plus the flow's own data."""

    ctx: object
    data: dict
    state: dict | None = None

    def forget_history(self) -> None:
        """Starts this step afresh: 返回 cannot lead back past it (e.g. after 重新描述)."""
        if self.state is not None:
            self.state["history"] = []

    @property
    def inbound(self):
        return self.ctx.inbound

    def reply(self, content: str) -> Reply:
        """A text reply to the person who wrote."""
        return self.ctx.reply(content)


class FlowEngine:
    """Holds the declared flows and runs the active one for each person."""

    def __init__(self, default_ttl_s: int):
        self.flows: dict[str, Flow] = {}
        self.default_ttl_s = default_ttl_s
        self._frozen = False
        self.interrupts: dict[str, Callable] = {}

    # -- declaration ------------------------------------------------------------

    def register(self, flow: Flow) -> Flow:
        """Adds a flow after checking that it is complete; fails loudly otherwise."""
        if self._frozen:
            raise RegistrationError(f"flow {flow.name!r} registered after start-up; register it "
                                    "in flows/__init__.py")
        if flow.name in self.flows:
            raise RegistrationError(f"flow {flow.name!r} is registered twice; give it another name")
        missing = [s for s in flow.states if s not in flow.steps]
        if missing:
            raise RegistrationError(f"flow {flow.name!r} has no step for state(s) "
                                    f"{', '.join(missing)}; add them to steps")
        extra = [s for s in flow.steps if s not in list(flow.states)]
        if extra or flow.first not in list(flow.states):
            raise RegistrationError(f"flow {flow.name!r} names state(s) not in {flow.states.__name__}:"
                                    f" {', '.join(map(str, extra or [flow.first]))}")
        if flow.durable and flow.name not in texts.DRAFT_LOST:
            raise RegistrationError(f"durable flow {flow.name!r} has no texts.DRAFT_LOST entry; add "
                                    "the sentence that tells a lost draft")
        for other in self.flows.values():
            clash = (set(other.keywords) & set(flow.keywords)) | (set(other.menu_keys) & set(flow.menu_keys))
            if other.channel == flow.channel and clash:
                raise RegistrationError(f"flows {other.name!r} and {flow.name!r} share entry "
                                        f"{sorted(clash)}; each entry starts one flow")
        self.flows[flow.name] = flow
        return flow

    def interrupt(self, channel: str, fn: Callable) -> None:
        """Registers what a channel answers in the middle of any flow (see Interrupt)."""
        if self._frozen:
            raise RegistrationError(f"interrupt for {channel!r} registered after start-up")
        self.interrupts[channel] = fn

    def freeze(self) -> None:
        """Ends registration: the set of flows is fixed once the app has started."""
        self._frozen = True

    # -- state --------------------------------------------------------------------

    @staticmethod
    def state_key(inbound) -> str:
        return kv.key("flow", inbound.channel, inbound.app, inbound.user)

    def load(self, ctx) -> dict | None:
        """Reads the person's flow state, or None."""
        raw = ctx.kv_get(self.state_key(ctx.inbound))
        if not raw:
            return None
        try:
            state = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(state, dict):
            return None
        # The TTL counts on the bot's clock too, so an abandoned conversation is forgotten at the
        # same moment whatever Redis's own expiry (which only cleans up) says.
        if isinstance(state.get("until"), (int, float)) and ctx.now.timestamp() > state["until"]:
            return None
        return state

    def _save_later(self, ctx, state: dict | None) -> None:
        key = self.state_key(ctx.inbound)
        if state is None:
            if any(f.durable and f.channel == ctx.inbound.channel for f in self.flows.values()):
                drafts.end(ctx)
            ctx.after_commit.append(lambda: ctx.redis.delete(key))
            return
        ttl = self.flows[state["flow"]].ttl_s or self.default_ttl_s
        state["until"] = int(ctx.now.timestamp()) + ttl
        # Serialised at commit, so what the next question's `ask` stores is kept too.
        ctx.after_commit.append(lambda: ctx.redis.set(key, json.dumps(state, ensure_ascii=False), ex=ttl))

    # -- running ------------------------------------------------------------------

    def entry_for(self, inbound) -> Flow | None:
        """The flow this message starts: a menu key, or an entry word typed alone."""
        for flow in self.flows.values():
            if flow.channel != inbound.channel:
                continue
            if inbound.kind == "event.click" and inbound.event_key in flow.menu_keys:
                return flow
            if inbound.kind in ("text", "voice") and inbound.text.strip("。.!！ ") in flow.keywords:
                return flow
        return None

    def handle(self, ctx) -> list[Reply] | None:
        """Runs the message through the person's flow; None when no flow takes it."""
        state = self.load(ctx)
        entry = self.entry_for(ctx.inbound)
        flow = self.flows.get(state.get("flow")) if state else None
        if state is not None and (flow is None or state.get("state") not in [s.value for s in flow.states]):
            log.warning("dropping stale flow state %r for %s", state, ctx.inbound.user)
            self._save_later(ctx, None)
            state = flow = None
        if state is None:
            return self._start(ctx, entry) if entry is not None else self._lost_draft(ctx)
        current = flow.states(state["state"])
        turn = Turn(ctx, state.setdefault("data", {}), state)
        said = ctx.inbound.text
        switch_to = self.flows.get(state.pop("switch_to", None) or "")
        if switch_to is not None:
            if words.is_yes(said):
                return self._start(ctx, switch_to)
            if words.is_no(said):
                self._save_later(ctx, state)
                return self._ask(flow, current, turn)
        if entry is not None:
            clicked = ctx.inbound.kind == "event.click"
            if entry.name == flow.name and not clicked:
                self._save_later(ctx, state)
                return [ctx.reply(texts.FLOW_ALREADY.format(flow=flow.title or flow.name)),
                        *self._ask(flow, current, turn)]
            if clicked or not (state.get("history") or turn.data.get("text")):
                return self._start(ctx, entry)
            state["switch_to"] = entry.name
            self._save_later(ctx, state)
            return [ctx.reply(texts.FLOW_SWITCH_ASK.format(current=flow.title or flow.name,
                                                           next=entry.title or entry.name))]
        if words.is_cancel(said):
            answered = flow.on_cancel(turn, current) if flow.on_cancel is not None else None
            if answered is not None:
                return self._apply(ctx, flow, state, current, turn, answered)
            self._save_later(ctx, None)
            return [ctx.reply(flow.cancelled)]
        if words.is_back(said):
            history = state.setdefault("history", [])
            if not history:
                self._save_later(ctx, state)
                return [ctx.reply(texts.NOTHING_TO_GO_BACK), *self._ask(flow, current, turn)]
            previous = flow.states(history.pop())
            state["state"] = previous.value
            self._save_later(ctx, state)
            return self._ask(flow, previous, turn)
        if words.is_help(said):
            self._save_later(ctx, state)
            return [ctx.reply(flow.help), *self._ask(flow, current, turn)]
        interrupt = self.interrupts.get(ctx.inbound.channel)
        claimed = interrupt(ctx, flow, current, turn) if interrupt is not None else None
        if claimed is not None:
            if claimed.end:
                self._save_later(ctx, None)
                return list(claimed.replies)
            self._save_later(ctx, state)
            return [*claimed.replies, *self._ask(flow, current, turn)]
        if ctx.inbound.kind.startswith("event.") and ctx.inbound.kind not in flow.accepts:
            return None   # the event's handler answers; the flow waits as it was
        outcome = flow.steps[current].handle(turn)
        return self._apply(ctx, flow, state, current, turn, outcome)

    def begin(self, ctx, name: str, state: StrEnum, data: dict) -> list[Reply]:
        """Starts a flow at a given state with data (a card button, a shortcut word)."""
        flow = self.flows[name]
        if flow.durable:
            drafts.begin(ctx, flow.name, data)
        saved = {"flow": name, "state": state.value, "data": data, "history": []}
        self._save_later(ctx, saved)
        return self._ask(flow, state, Turn(ctx, data))

    def _start(self, ctx, flow: Flow) -> list[Reply]:
        state = {"flow": flow.name, "state": flow.first.value, "data": {}, "history": []}
        if flow.durable:
            drafts.begin(ctx, flow.name, state["data"])
        turn = Turn(ctx, state["data"], state)
        if flow.start is not None:
            outcome = flow.start(turn)
            if isinstance(outcome, Finish):
                self._save_later(ctx, None)
                return list(outcome.replies)
            if isinstance(outcome, Next):
                return self._apply(ctx, flow, state, flow.first, turn, outcome, remember=False)
        self._save_later(ctx, state)
        return self._ask(flow, flow.first, turn)

    def _lost_draft(self, ctx) -> list[Reply] | None:
        """A durable flow's draft Redis no longer has: say so once, instead of 没太明白 (#17)."""
        if ctx.inbound.kind not in ("text", "voice", "image", "location") or not any(
                f.durable and f.channel == ctx.inbound.channel for f in self.flows.values()):
            return None
        if caching.facts(ctx).get("draft") is False:
            return None     # no draft under way (#19: no query)
        name = drafts.lost(ctx, self.default_ttl_s)
        caching.learn(ctx, draft=False)   # a draft found is deleted now: none is under way after this
        flow = self.flows.get(name) if name else None
        if flow is None or not flow.durable:
            return None
        log.warning("the %s draft of %s was lost from Redis", name, ctx.inbound.user)
        return [ctx.reply(texts.DRAFT_LOST[name])]

    def _ask(self, flow: Flow, state: StrEnum, turn: Turn) -> list[Reply]:
        asked = flow.steps[state].ask(turn)
        if isinstance(asked, str):
            return [turn.reply(asked)]
        return list(asked)

    def _apply(self, ctx, flow, state, current, turn, outcome, remember=True) -> list[Reply]:
        if isinstance(outcome, Retry):
            self._save_later(ctx, state)
            return [ctx.reply(outcome.hint)]
        if isinstance(outcome, Finish):
            self._save_later(ctx, None)
            return list(outcome.replies)
        if isinstance(outcome, Next):
            if outcome.state not in list(flow.states):
                raise BotError(f"flow {flow.name!r} returned unknown state {outcome.state!r}")
            if remember and outcome.state != current:
                state.setdefault("history", []).append(current.value)
            state["state"] = outcome.state.value
            self._save_later(ctx, state)
            return [*outcome.replies, *self._ask(flow, outcome.state, turn)]
        raise BotError(f"flow {flow.name!r} step {current} returned {outcome!r}; "
                       "return Next, Retry or Finish")
