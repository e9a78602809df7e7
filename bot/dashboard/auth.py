"""Who is looking at the dashboard: WeCom OAuth2 sign-in for members and secretaries, the admin
token (typed into a form, never in a URL) for administrators; both end in one signed cookie.

The cookie holds only who signed in and how; the member's role and branch are read from the
database on every request, so a change in org.yaml takes effect at once.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..models import Member

COOKIE = "dashboard"
OAUTH_COOKIE = "dashboard_oauth"


@dataclass(frozen=True)
class Viewer:
    """A signed-in person: an administrator (all branches), a secretary (their branch) or a member (themselves)."""

    kind: str                 # admin | secretary | member
    userid: str | None
    name: str
    branch: str | None
    pii: bool
    csrf: str

    @property
    def sees_branches(self) -> bool:
        return self.kind in ("admin", "secretary")


def secret_key(cfg: dict) -> bytes:
    """The key that signs the dashboard's cookies: configured, else derived from the WeCom secrets."""
    configured = str(cfg["dashboard"].get("secret_key") or "")
    if configured:
        return configured.encode()
    seed = f"dashboard|{cfg['wecom'].get('secret') or ''}|{cfg['wecom']['token']}|{cfg['wecom']['corp_id']}"
    return hashlib.sha256(seed.encode()).digest()


def _signer(cfg: dict, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(cfg), salt=salt)


def token_matches(given: str, expected: str | None) -> bool:
    """Constant-time comparison; an unset token never matches."""
    return bool(expected) and hmac.compare_digest(given.encode(), str(expected).encode())


def issue(response, cfg: dict, kind: str, userid: str | None = None, pii: bool = False) -> None:
    """Sets the sign-in cookie on a response."""
    hours = float(cfg["dashboard"]["session_hours"])
    value = _signer(cfg, "signin").dumps({"k": kind, "u": userid, "p": pii, "c": secrets.token_hex(16)})
    response.set_cookie(COOKIE, value, max_age=int(hours * 3600), httponly=True, samesite="Lax",
                        secure=request.is_secure, path="/dashboard")


def forget(response) -> None:
    """Removes the sign-in cookie."""
    response.delete_cookie(COOKIE, path="/dashboard")


def current_viewer(session) -> Viewer | None:
    """The viewer the request's cookie names, or None when absent, forged, expired or no longer a member."""
    cfg = current_app.extensions["bot"].cfg
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _signer(cfg, "signin").loads(raw, max_age=int(float(cfg["dashboard"]["session_hours"]) * 3600))
    except BadSignature:
        return None
    if data.get("k") == "admin":
        return Viewer("admin", None, "admin", None, bool(data.get("p")), data["c"])
    member = session.get(Member, str(data.get("u") or ""))
    if member is None or not member.active:
        return None
    kind = "secretary" if member.role == "secretary" else "member"
    return Viewer(kind, member.userid, member.name, member.branch_id, False, data["c"])


def oauth_start(response_factory, cfg: dict, redirect_uri: str, next_url: str):
    """Redirects to WeCom's authorize page with a fresh state remembered in a signed cookie."""
    state = secrets.token_urlsafe(16)
    query = urlencode({"appid": cfg["wecom"]["corp_id"], "redirect_uri": redirect_uri, "response_type": "code",
                       "scope": "snsapi_base", "state": state, "agentid": cfg["wecom"]["agent_id"]})
    response = response_factory(f"{cfg['dashboard']['oauth_authorize_url']}?{query}#wechat_redirect")
    response.set_cookie(OAUTH_COOKIE, _signer(cfg, "oauth").dumps({"s": state, "n": next_url}), max_age=600,
                        httponly=True, samesite="Lax", secure=request.is_secure, path="/dashboard")
    return response


def oauth_state(cfg: dict) -> dict | None:
    """The state and target remembered when the sign-in began (None when missing or stale)."""
    raw = request.cookies.get(OAUTH_COOKIE)
    if not raw:
        return None
    try:
        return _signer(cfg, "oauth").loads(raw, max_age=600)
    except BadSignature:
        return None


def userid_for_code(bot, code: str) -> tuple[str | None, str | None]:
    """Asks WeCom who the `code` belongs to: (userid, None), or (None, why not)."""
    from ..errors import PlatformError

    try:
        result = bot.platform.clients["wecom"].call("get", "auth/getuserinfo", params={"code": code})
    except PlatformError as exc:
        return None, f"errcode {exc.errcode}"
    userid = (result or {}).get("userid") or (result or {}).get("UserId")
    return (str(userid), None) if userid else (None, "not a member")


def csrf_ok(viewer: Viewer) -> bool:
    """Whether a form post carries the viewer's own token."""
    return hmac.compare_digest(str(request.form.get("csrf", "")), viewer.csrf)
