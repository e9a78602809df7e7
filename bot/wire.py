"""The callback wire format of both platforms: signatures, AES, passive-reply envelopes.

Decryption is wechatpy's; signatures are checked here in constant time, and every
failure becomes BadRequest (400) or Forbidden (403), never an unhandled exception.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time

from wechatpy.crypto import PrpCrypto as MpCrypto
from wechatpy.enterprise.crypto import PrpCrypto as WorkCrypto
from wechatpy.exceptions import WeChatException

from .errors import BadRequest, Forbidden
from .inbound import parse_document, parse_xml


def sign(*parts: str) -> str:
    """The platforms' signature: SHA-1 of the sorted, concatenated parts."""
    return hashlib.sha1("".join(sorted(str(p) for p in parts)).encode("utf-8")).hexdigest()


def _same(expected: str, given: str | None) -> bool:
    return hmac.compare_digest(expected.encode(), (given or "").encode("utf-8", "replace"))


def cdata(value) -> str:
    """Wraps text in CDATA, splitting any ']]>' inside it."""
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


class Wire:
    """Seals and opens one platform's callbacks (channel 'wechat' or 'wecom')."""

    def __init__(self, channel: str, token: str, encoding_aes_key: str, receive_id: str):
        self.channel = channel
        self.token = token
        self.receive_id = receive_id
        self.encrypted = bool(encoding_aes_key)
        self._crypto = None
        if self.encrypted:
            key = base64.b64decode(encoding_aes_key + "=")
            self._crypto = (WorkCrypto if channel == "wecom" else MpCrypto)(key)

    @classmethod
    def from_config(cls, cfg: dict, channel: str) -> "Wire":
        """Builds the wire for a channel from the settings."""
        section = cfg[channel]
        receive_id = section["corp_id"] if channel == "wecom" else section["app_id"]
        return cls(channel, section["token"], section["encoding_aes_key"], receive_id)

    # -- inbound ---------------------------------------------------------------

    def _decrypt(self, encrypted: str) -> str:
        try:
            return self._crypto.decrypt(encrypted, self.receive_id)
        except (ValueError, TypeError, IndexError, struct.error, WeChatException):
            # A wrong key or a mangled body surfaces as padding/Unicode errors inside wechatpy.
            raise BadRequest("the message cannot be decrypted") from None

    def verify_url(self, args) -> str:
        """Answers the platform's URL verification (GET) with the echo string."""
        timestamp, nonce, echostr = args.get("timestamp"), args.get("nonce"), args.get("echostr")
        if not (timestamp and nonce and echostr):
            raise BadRequest("timestamp, nonce and echostr are required")
        if self.channel == "wecom":
            if not _same(sign(self.token, timestamp, nonce, echostr), args.get("msg_signature")):
                raise Forbidden("bad msg_signature")
            return self._decrypt(echostr)
        if not _same(sign(self.token, timestamp, nonce), args.get("signature")):
            raise Forbidden("bad signature")
        return echostr  # the Official Account's echostr is never encrypted

    def open(self, args, body: bytes) -> dict:
        """Checks the signature and returns the decrypted callback fields (POST)."""
        timestamp, nonce = args.get("timestamp") or "", args.get("nonce") or ""
        if not (timestamp and nonce):
            raise BadRequest("timestamp and nonce are required")
        outer = parse_document(body)
        if not self.encrypted:
            if not _same(sign(self.token, timestamp, nonce), args.get("signature")):
                raise Forbidden("bad signature")
            return outer
        encrypted = outer.get("Encrypt")
        if not isinstance(encrypted, str) or not encrypted:
            raise BadRequest("no Encrypt element in a safe-mode callback")
        if not _same(sign(self.token, timestamp, nonce, encrypted), args.get("msg_signature")):
            raise Forbidden("bad msg_signature")
        return parse_document(self._decrypt(encrypted))

    # -- passive reply -----------------------------------------------------------

    def seal(self, xml: str, nonce: str, timestamp: int | None = None) -> str:
        """Wraps a reply document as the platform expects it (encrypted in safe mode)."""
        if not self.encrypted:
            return xml
        timestamp = str(timestamp or int(time.time()))
        encrypted = self._crypto.encrypt(xml, self.receive_id).decode("ascii")
        signature = sign(self.token, timestamp, nonce, encrypted)
        return (f"<xml><Encrypt>{cdata(encrypted)}</Encrypt><MsgSignature>{cdata(signature)}"
                f"</MsgSignature><TimeStamp>{timestamp}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>")

    # -- the platform's side: used by tests, the chat client and the dev console ----

    def build_callback(self, xml: str, timestamp: int, nonce: str | None = None):
        """Signs (and encrypts) a callback as the platform would; returns (query, body)."""
        nonce = nonce or str(secrets.randbelow(10**10))
        query = {"timestamp": str(timestamp), "nonce": nonce}
        plain_sig = sign(self.token, timestamp, nonce)
        if not self.encrypted:
            query["signature"] = plain_sig
            return query, xml.encode("utf-8")
        encrypted = self._crypto.encrypt(xml, self.receive_id).decode("ascii")
        query["msg_signature"] = sign(self.token, timestamp, nonce, encrypted)
        if self.channel == "wechat":
            query.update(signature=plain_sig, encrypt_type="aes")
        body = f"<xml><ToUserName>{cdata(self.receive_id)}</ToUserName><Encrypt>{cdata(encrypted)}</Encrypt></xml>"
        return query, body.encode("utf-8")

    def open_reply(self, body: bytes | str) -> dict:
        """Opens a passive reply as the platform would; {} for an empty/'success' reply."""
        raw = body.decode("utf-8") if isinstance(body, bytes) else body
        if raw.strip() in ("", "success"):
            return {}
        doc = parse_xml(raw.encode("utf-8"))
        if not self.encrypted:
            return doc
        expected = sign(self.token, doc["TimeStamp"], doc["Nonce"], doc["Encrypt"])
        if not _same(expected, doc.get("MsgSignature")):
            raise Forbidden("reply signature does not match")
        return parse_xml(self._decrypt(doc["Encrypt"]).encode("utf-8"))


def render_message(fields: dict) -> str:
    """Renders flat message fields as a callback/reply <xml> document."""
    parts = []
    for name, value in fields.items():
        if isinstance(value, int):
            parts.append(f"<{name}>{value}</{name}>")
        else:
            parts.append(f"<{name}>{cdata(value)}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"
