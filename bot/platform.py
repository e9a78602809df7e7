"""Outbound clients for the Official Account and the WeCom app.

Built on wechatpy's clients, with every URL (token and media included) under the
configured api_base_url, one access token per app shared through Redis and refreshed
by one process under a lock, and a bounded retry: a token error refetches once and
retries once.
"""
from __future__ import annotations

import logging

import requests
from wechatpy import WeChatClient as _MpClient
from wechatpy.enterprise import WeChatClient as _WorkClient
from wechatpy.exceptions import WeChatClientException

from . import kv
from .errors import PlatformError, SendInDoubt
from .replies import Reply

log = logging.getLogger(__name__)

TOKEN_ERRORS = {40001, 40014, 42001}
OUTSIDE_WINDOW = 45015      # the resident has not written in 48 hours
OVER_WINDOW_COUNT = 45047   # too many customer-service messages since the resident last wrote
# Errors that no retry can cure: wrong recipient, unsubscribed, malformed message.
# 42014: a card task_id used before; 40037: unknown template; 47003: a bad argument;
# 43101: the resident refused the notice.
TASK_ID_TAKEN = 42014   # WeCom: a card with this task_id was sent already
PERMANENT_ERRORS = {40003, 43004, 81013, 40008, 44004, 45002, 40013, 60111, 42014, 40037, 47003, 43101}


class _SharedToken:
    """Access-token handling shared by both clients (a mixin over wechatpy's client)."""

    TOKEN_PATH = ""

    def _setup(self, base_url: str, redis, channel: str, app: str):
        self.API_BASE_URL = base_url
        self._redis = redis
        self._token_key = kv.key("token", channel, app)
        self.timeout = 5

    def _token_params(self) -> dict:
        raise NotImplementedError

    @property
    def access_token(self) -> str:
        """The cached token, fetched once for all processes when missing."""
        return self._redis.get(self._token_key) or self.refresh_token(stale=None)

    def fetch_access_token(self):
        """wechatpy's hook: refreshes through the shared cache."""
        return {"access_token": self.refresh_token(stale=self._redis.get(self._token_key))}

    def refresh_token(self, stale: str | None) -> str:
        """Fetches a new token under a lock, unless another process already replaced `stale`."""
        with self._redis.lock(self._token_key + ":lock", timeout=20, blocking_timeout=20):
            current = self._redis.get(self._token_key)
            if current and current != stale:
                return current
            try:
                res = self._http.get(self.API_BASE_URL + self.TOKEN_PATH,
                                     params=self._token_params(), timeout=self.timeout)
            except requests.RequestException as exc:
                raise PlatformError(None, f"token fetch failed: {type(exc).__name__}") from None
            if res.status_code != 200:
                raise PlatformError(None, "token fetch failed", http_status=res.status_code)
            try:
                result = res.json()
            except ValueError:
                raise PlatformError(None, "token response is not JSON") from None
            if result.get("errcode") or "access_token" not in result:
                raise PlatformError(result.get("errcode"), result.get("errmsg", ""))
            # Keep a margin: a new MP token voids the old one five minutes later.
            ttl = max(60, int(result.get("expires_in", 7200)) - 300)
            self._redis.set(self._token_key, result["access_token"], ex=ttl)
            log.info("fetched a new access token for %s", self._token_key)
            return result["access_token"]

    def _once(self, method: str, endpoint: str, token: str, **kwargs):
        params = dict(kwargs.pop("params", None) or {})
        params["access_token"] = token
        try:
            return self._request(method, endpoint, params=params, **kwargs)
        except WeChatClientException as exc:
            status = getattr(exc.response, "status_code", None)
            raise PlatformError(exc.errcode, exc.errmsg or "", http_status=status) from None
        except requests.ReadTimeout:
            # The request went out and no answer came: it may have been taken (#17).
            raise SendInDoubt(None, "ReadTimeout") from None
        except requests.RequestException as exc:
            raise PlatformError(None, f"{type(exc).__name__}") from None

    def call(self, method: str, endpoint: str, **kwargs):
        """Calls an API endpoint; a token error refetches the token once and retries once."""
        token = self.access_token
        try:
            return self._once(method, endpoint, token, **dict(kwargs))
        except PlatformError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            log.info("token rejected (%s); refetching once", exc.errcode)
            return self._once(method, endpoint, self.refresh_token(stale=token), **dict(kwargs))

    def download_media(self, media_id: str) -> bytes:
        """Downloads a media file (photo, voice) by its MediaId."""
        res = self.call("get", "media/get", params={"media_id": media_id})
        if isinstance(res, dict):  # wechatpy returns JSON bodies as dicts: that is an error
            raise PlatformError(res.get("errcode"), res.get("errmsg", ""))
        return res.content


class MpClient(_SharedToken, _MpClient):
    """The Official Account API (residents)."""

    TOKEN_PATH = "token"

    def __init__(self, cfg: dict, redis):
        section = cfg["wechat"]
        super().__init__(section["app_id"], section["app_secret"], auto_retry=False)
        self._setup(section["api_base_url"], redis, "wechat", section["app_id"] or "mp")

    def _token_params(self) -> dict:
        return {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}

    def upload_image(self, data: bytes, filename: str = "photo.jpg") -> str:
        """Uploads an image as temporary media (kept 3 days) and returns its media_id."""
        res = self.call("post", "media/upload", params={"type": "image"},
                        files={"media": (filename, data, "image/jpeg")})
        if not isinstance(res, dict) or not res.get("media_id"):
            raise PlatformError(None, "media upload answered without a media_id")
        return res["media_id"]

    def send(self, reply: Reply):
        """Sends a customer-service message (or a template notice) to a resident."""
        if reply.kind == "template":
            return self.call("post", "message/template/send", data={"touser": reply.to, **reply.body})
        return self.call("post", "message/custom/send",
                         data={"touser": reply.to, "msgtype": reply.kind, reply.kind: reply.body})


class WorkClient(_SharedToken, _WorkClient):
    """The WeCom self-built app API (members)."""

    TOKEN_PATH = "gettoken"

    def __init__(self, cfg: dict, redis):
        section = cfg["wecom"]
        super().__init__(section["corp_id"], section["secret"], auto_retry=False)
        self.agent_id = int(section["agent_id"] or 0)
        self._setup(section["api_base_url"], redis, "wecom", f"{section['corp_id']}:{self.agent_id}")

    def _token_params(self) -> dict:
        return {"corpid": self.corp_id, "corpsecret": self.secret}

    def send(self, reply: Reply):
        """Sends an app message to a member; WeCom drops a repeat within 30 minutes."""
        return self.call("post", "message/send", data={
            "touser": reply.to, "msgtype": reply.kind, "agentid": self.agent_id,
            reply.kind: reply.body,
            # Closes the gap where a worker dies after WeCom accepted the message.
            "enable_duplicate_check": 1, "duplicate_check_interval": 1800,
        })


class Platform:
    """Both clients, chosen by channel."""

    def __init__(self, cfg: dict, redis):
        self.clients = {"wechat": MpClient(cfg, redis), "wecom": WorkClient(cfg, redis)}

    def send(self, reply: Reply):
        """Sends one message through the channel's API; raises PlatformError on failure.

        A member's photo for a resident (#12) is fetched from WeCom and uploaded to the
        Official Account first: the two platforms' media ids mean nothing to each other.
        """
        if reply.channel == "wechat" and reply.kind == "image" and "from_wecom_media_id" in reply.body:
            data = self.clients["wecom"].download_media(reply.body["from_wecom_media_id"])
            media_id = self.clients["wechat"].upload_image(data)
            reply = Reply(reply.channel, reply.to, "image", {"media_id": media_id})
        return self.clients[reply.channel].send(reply)
