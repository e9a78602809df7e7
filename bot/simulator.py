"""The platform's side of a conversation: a resident or member sending real signed callbacks.

Used by the tests, `python -m bot chat` and the dev console, so all three speak to the
webhooks exactly as WeChat and WeCom do.
"""
from __future__ import annotations

import itertools
import secrets
import time
from typing import Callable

from .wire import Wire, render_message

_msg_ids = itertools.count(secrets.randbelow(10**12) * 1000)
MP_ACCOUNT = "gh_bot"


class Person:
    """Someone writing to the bot: a resident (wechat) or a member (wecom)."""

    def __init__(self, cfg: dict, channel: str, user: str,
                 post: Callable[[str, dict, bytes], tuple[int, bytes]],
                 now: Callable[[], int] = lambda: int(time.time())):
        self.channel, self.user = channel, user
        self.wire = Wire.from_config(cfg, channel)
        self.path = "/" + channel
        self.post, self.now = post, now
        self.to = cfg["wecom"]["corp_id"] if channel == "wecom" else MP_ACCOUNT
        self.agent_id = cfg["wecom"]["agent_id"]
        self.last_status = None

    def deliver(self, fields: dict, msg_id: bool = True, create_time: int | None = None):
        """Sends one callback; returns (status, query, body) so it can be delivered again."""
        doc = {"ToUserName": self.to, "FromUserName": self.user,
               "CreateTime": create_time or self.now(), **fields}
        if msg_id:
            doc["MsgId"] = str(next(_msg_ids))
        if self.channel == "wecom":
            doc["AgentID"] = self.agent_id
        query, body = self.wire.build_callback(render_message(doc), self.now())
        return query, body

    def send(self, fields: dict, msg_id: bool = True) -> dict:
        """Sends a message and returns the opened passive reply ({} when there is none)."""
        query, body = self.deliver(fields, msg_id)
        return self.resend(query, body)

    def resend(self, query: dict, body: bytes) -> dict:
        """Delivers a callback (again) and opens the reply."""
        status, reply = self.post(self.path, query, body)
        self.last_status = status
        if status != 200:
            raise AssertionError(f"webhook answered {status}: {reply[:200]!r}")
        return self.wire.open_reply(reply)

    def _content(self, reply: dict) -> str | None:
        return reply.get("Content") if reply else None

    def says(self, content: str) -> str | None:
        """Sends text; returns the text of the passive reply."""
        return self._content(self.send({"MsgType": "text", "Content": content}))

    def speaks(self, recognition: str | None) -> str | None:
        """Sends a voice message with WeChat's speech Recognition (None: not recognised)."""
        fields = {"MsgType": "voice", "MediaId": secrets.token_hex(8), "Format": "amr"}
        if recognition is not None:
            fields["Recognition"] = recognition
        return self._content(self.send(fields))

    def sends_photo(self, media_id: str | None = None) -> str | None:
        """Sends a photo."""
        media_id = media_id or secrets.token_hex(8)
        return self._content(self.send({"MsgType": "image", "MediaId": media_id,
                                        "PicUrl": f"http://mmbiz.qpic.cn/{media_id}"}))

    def shares_location(self, lat: float, lng: float, label: str = "") -> str | None:
        """Shares a location."""
        return self._content(self.send({"MsgType": "location", "Location_X": lat,
                                        "Location_Y": lng, "Scale": 15, "Label": label}))

    def event(self, event: str, key: str = "", **extra) -> str | None:
        """Sends an event (subscribe, SCAN, CLICK, template_card_event …)."""
        fields = {"MsgType": "event", "Event": event, **extra}
        if key:
            fields["EventKey"] = key
        return self._content(self.send(fields, msg_id=False))

    def clicks(self, menu_key: str) -> str | None:
        """Taps a menu item."""
        return self.event("CLICK", menu_key)

    def subscribes(self, scene: str | None = None) -> str | None:
        """Follows the account, through a QR code's scene when given."""
        return self.event("subscribe", f"qrscene_{scene}" if scene else "")

    def scans(self, scene: str) -> str | None:
        """Scans a QR code while already following."""
        return self.event("SCAN", scene)
