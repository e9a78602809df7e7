"""Inbound callbacks as data: hardened XML parsing into one frozen dataclass."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from .errors import BadRequest

MESSAGE_KINDS = {"text", "image", "voice", "video", "shortvideo", "location", "link", "file"}
EVENT_KINDS = {"subscribe", "unsubscribe", "scan", "click", "view", "location",
               "enter_agent", "template_card_event", "template_card_menu_event",
               "scancode_push", "scancode_waitmsg"}
# The events WeChat documents as opening the 48-hour customer-service window (a follow, a
# QR scan, a tap on a click / scan-code menu button); every other event (delivery reports,
# LOCATION reports, VIEW, kf_*, card and account events) is the platform's, not a person's.
WINDOW_EVENTS = {"subscribe", "scan", "click", "scancode_push", "scancode_waitmsg"}
# WeCom events a member causes in the app; the rest (contacts, approvals, calendars,
# batch jobs, LOCATION reports) are recorded and ignored.
MEMBER_EVENTS = {"subscribe", "unsubscribe", "click", "enter_agent", "template_card_event",
                 "template_card_menu_event", "scancode_push", "scancode_waitmsg", "pic_sysphoto",
                 "pic_photo_or_album", "pic_weixin", "location_select", "taskcard_click"}
# Fields that are one value; a document that gives one of them children or twice is malformed.
SCALAR_FIELDS = ("ToUserName", "FromUserName", "CreateTime", "MsgType", "Event", "EventKey",
                 "MsgId", "Content", "Recognition", "MediaId", "AgentID", "TaskId")


def _to_value(el: Element):
    children = list(el)
    if not children:
        # Tencent's own examples pad values: <MsgType> <![CDATA[event]]> </MsgType>.
        return (el.text or "").strip()
    out: dict = {}
    for child in children:
        value = _to_value(child)
        if child.tag in out:  # repeated elements (SelectedItem, Item) become a list
            if not isinstance(out[child.tag], list):
                out[child.tag] = [out[child.tag]]
            out[child.tag].append(value)
        else:
            out[child.tag] = value
    return out


def _scalar_to_text(value):
    if isinstance(value, dict):
        return {k: _scalar_to_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scalar_to_text(v) for v in value]
    return "" if value is None else str(value)


def parse_document(body: bytes | str) -> dict:
    """Parses a callback document, XML or JSON (the Official Account may push either)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if raw.lstrip()[:1] == b"{":
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("malformed JSON") from None
        if not isinstance(value, dict):
            raise BadRequest("the JSON document is not an object")
        return _scalar_to_text(value)
    return parse_xml(raw)


def parse_xml(body: bytes | str) -> dict:
    """Parses a callback's <xml> document into a dict; no DTDs, entities or other roots."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError, TypeError) as exc:
        raise BadRequest(f"malformed XML: {type(exc).__name__}") from None
    if root.tag != "xml":
        raise BadRequest("the document's root is not <xml>")
    value = _to_value(root)
    if not isinstance(value, dict):
        raise BadRequest("the <xml> document is empty")
    return value


@dataclass(frozen=True)
class Inbound:
    """One message or event from a resident (wechat) or a member (wecom)."""

    channel: str
    app: str
    user: str
    kind: str
    create_time: int
    msg_id: str | None = None
    fields: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def text(self) -> str:
        """The words the person sent: Content, or a voice's Recognition."""
        if self.kind == "voice":
            return (self.fields.get("Recognition") or "").strip()
        return (self.fields.get("Content") or "").strip() if self.kind == "text" else ""

    @property
    def event_key(self) -> str:
        """EventKey of an event (menu key, QR scene, card button), '' otherwise."""
        value = self.fields.get("EventKey")
        return value.strip() if isinstance(value, str) else ""

    @property
    def is_event(self) -> bool:
        """An event callback rather than a message."""
        return str(self.fields.get("MsgType") or "").lower() == "event"

    @property
    def event(self) -> str:
        """The Event of an event callback, lower-cased ('' for a message)."""
        return str(self.fields.get("Event") or "").lower() if self.is_event else ""

    @property
    def opens_window(self) -> bool:
        """A person wrote, followed, scanned or tapped: WeChat's 48-hour window opens again."""
        return self.event in WINDOW_EVENTS if self.is_event else True

    @property
    def by_person(self) -> bool:
        """A person did this (a message or an event of theirs), not the platform reporting."""
        if self.channel == "wecom":
            return self.event in MEMBER_EVENTS if self.is_event else True
        return self.opens_window or self.event == "unsubscribe"

    @property
    def dedupe_id(self) -> str:
        """What makes two deliveries the same callback: MsgId, or time and event for events."""
        if self.msg_id and self.msg_id != "0":
            return f"m:{self.msg_id}"
        return f"e:{self.create_time}:{self.kind}:{self.event_key}:{self.fields.get('TaskId', '')}"


def to_inbound(channel: str, fields: dict) -> Inbound:
    """Turns parsed callback fields into an Inbound; unknown kinds become 'unknown'."""
    for name in SCALAR_FIELDS:
        if name in fields and not isinstance(fields[name], str):
            raise BadRequest(f"{name} is given twice or has child elements")
    user = fields.get("FromUserName")
    if not isinstance(user, str) or not user.strip() or len(user) > 128:
        raise BadRequest("FromUserName is missing")
    try:
        create_time = int(fields.get("CreateTime") or 0)
    except (TypeError, ValueError):
        raise BadRequest("CreateTime is not a number") from None
    msg_type = str(fields.get("MsgType") or "").lower()
    if msg_type == "event":
        event = str(fields.get("Event") or "").lower()
        kind = f"event.{event}" if event in EVENT_KINDS else "unknown"
    else:
        kind = msg_type if msg_type in MESSAGE_KINDS else "unknown"
    msg_id = fields.get("MsgId")
    return Inbound(
        channel=channel,
        app=str(fields.get("AgentID") or fields.get("ToUserName") or ""),
        user=user.strip(),
        kind=kind,
        create_time=create_time,
        msg_id=str(msg_id) if isinstance(msg_id, str) and msg_id else None,
        fields=fields,
    )
