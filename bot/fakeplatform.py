"""A local fake of the WeChat and WeCom APIs for development and tests.

It issues and checks access tokens, records every call, and can be told to fail with
the platforms' real error codes (42001 token expired, 45015 outside the 48-hour window,
45009 over the frequency limit, -1 busy) or with HTTP 5xx, for a number of calls or
until cleared. Mounted under /_fake by `dev.fake_platform`, or served on its own.
"""
from __future__ import annotations

import base64
import itertools
import json
import secrets
import threading
import time

from flask import Blueprint, Flask, Response, jsonify, request
from markupsafe import escape

ERRMSG = {
    40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid",
    40004: "invalid media type",
    40005: "invalid file type",
    40006: "invalid meida size",
    40007: "invalid media_id",
    41005: "media data missing",
    40014: "invalid access_token",
    40029: "invalid code",
    42001: "access_token expired",
    42014: "task_id exist",
    45009: "reach max api daily quota limit",
    60003: "department not found",
    45015: "response out of time limit",
    45047: "out of response count limit",
    -1: "system error",
}
# A 1×1 PNG: what a photo download returns.
PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
                         "AAAABJRU5ErkJggg==")
SENDS = {"message/custom/send", "message/send", "message/template/send"}


class FakePlatform:
    """The fake's state: tokens, recorded calls, and faults to inject."""

    def __init__(self):
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self.calls: list[dict] = []
        self.tokens: dict[str, str] = {}     # token -> platform
        self.faults: list[dict] = []
        self.oauth_codes: dict[str, dict] = {}   # code -> what auth/getuserinfo answers
        self.oauth_user: str | None = None       # who "opens" the authorize page next
        self.late_s = 0.0                    # #17: accept sends, but answer this late
        self._wecom_seen: dict = {}          # #17: WeCom's duplicate check
        self.task_ids: set[str] = set()      # WeCom refuses a card whose task_id it has seen
        # WeCom contacts (department/list, user/list), in the API's own shapes.
        self.departments: list[dict] = [{"id": 1, "name": "社区", "parentid": 0, "order": 1}]
        self.users: list[dict] = []

    # -- control --------------------------------------------------------------

    def fail(self, endpoint: str, errcode: int | None = None, http_status: int | None = None,
             times: int | None = None, platform: str = "*") -> None:
        """Makes calls to `endpoint` ('*' for any) fail, `times` times or until cleared."""
        with self._lock:
            self.faults.append({"endpoint": endpoint, "errcode": errcode, "platform": platform,
                                "http_status": http_status, "times": times})

    def clear_faults(self) -> None:
        """Lets every call succeed again."""
        with self._lock:
            self.faults.clear()
            self.late_s = 0.0

    def answer_late(self, seconds: float) -> None:
        """Takes every send at once but answers only after `seconds` (0: at once again)."""
        with self._lock:
            self.late_s = float(seconds)

    def _wecom_repeat(self, endpoint: str, body: dict | None) -> bool:
        """WeCom's duplicate check: the same message to the same member within the interval is dropped."""
        if endpoint != "message/send" or not (body or {}).get("enable_duplicate_check"):
            return False
        kind = body.get("msgtype")
        key = (body.get("touser"), kind, json.dumps(body.get(kind), sort_keys=True, ensure_ascii=False))
        now = time.time()
        with self._lock:
            seen = self._wecom_seen.get(key)
            self._wecom_seen[key] = now if seen is None or now - seen > float(
                body.get("duplicate_check_interval") or 1800) else seen
            return seen is not None and now - seen <= float(body.get("duplicate_check_interval") or 1800)

    def expire_tokens(self) -> None:
        """Voids every issued token: the next call gets 42001."""
        with self._lock:
            self.tokens.clear()

    def reset(self) -> None:
        """Forgets calls, tokens, faults and sign-ins."""
        with self._lock:
            self.calls.clear()
            self.tokens.clear()
            self.faults.clear()
            self.oauth_codes.clear()
            self.oauth_user = None
            self.late_s = 0.0
            self._wecom_seen.clear()
            self.task_ids.clear()
            self.departments = [{"id": 1, "name": "社区", "parentid": 0, "order": 1}]
            self.users = []

    def oauth_code(self, userid: str | None = None, openid: str | None = None) -> str:
        """A one-time OAuth2 code, as WeCom gives the app when a person opens its page.

        A member of the company is answered with `userid`; anyone else with `openid`.
        """
        code = secrets.token_hex(16)
        answer = {"userid": userid, "user_ticket": secrets.token_hex(8), "expires_in": 1800} if userid \
            else {"openid": openid or "o" + secrets.token_hex(8), "external_userid": ""}
        with self._lock:
            self.oauth_codes[code] = answer
        return code

    def sign_in_as(self, userid: str | None) -> None:
        """Who the fake authorize page signs in next (the dev console and browser tests)."""
        with self._lock:
            self.oauth_user = userid

    def sent(self, platform: str | None = None, to: str | None = None) -> list[dict]:
        """Messages the platform accepted, optionally for one platform and recipient."""
        with self._lock:
            return [c for c in self.calls if c["endpoint"] in SENDS and c["ok"] and not c.get("dropped")
                    and (platform is None or c["platform"] == platform)
                    and (to is None or (c["json"] or {}).get("touser") == to)]

    # -- behaviour ------------------------------------------------------------

    def _fault_for(self, platform: str, endpoint: str):
        with self._lock:
            for fault in self.faults:
                if fault["endpoint"] in ("*", endpoint) and fault["platform"] in ("*", platform):
                    if fault["times"] is not None:
                        fault["times"] -= 1
                        if fault["times"] <= 0:
                            self.faults.remove(fault)
                    return fault
        return None

    def _record(self, platform, endpoint, ok, body=None, errcode=0):
        params = {k: v for k, v in request.args.items() if k != "access_token"}
        with self._lock:
            entry = {"seq": next(self._seq), "platform": platform, "endpoint": endpoint,
                     "params": params, "json": body, "ok": ok, "errcode": errcode, "at": time.time()}
            self.calls.append(entry)
        return entry

    def _error(self, platform, endpoint, errcode, body=None):
        self._record(platform, endpoint, False, body, errcode)
        return jsonify(errcode=errcode, errmsg=ERRMSG.get(errcode, "error"))

    def token(self, platform: str):
        ok = (request.args.get("appid") and request.args.get("secret")) if platform == "wechat" \
            else (request.args.get("corpid") and request.args.get("corpsecret"))
        endpoint = "token" if platform == "wechat" else "gettoken"
        fault = self._fault_for(platform, endpoint)
        if fault and fault["http_status"]:
            return Response("unavailable", status=fault["http_status"])
        if not ok:
            return self._error(platform, endpoint, 40001)
        token = secrets.token_hex(16)
        with self._lock:
            self.tokens[token] = platform
        self._record(platform, endpoint, True)
        body = {"access_token": token, "expires_in": 7200}
        if platform == "wecom":
            body.update(errcode=0, errmsg="ok")
        return jsonify(body)

    def api(self, platform: str, endpoint: str):
        body = request.get_json(force=True, silent=True) if request.data else None
        if endpoint == "showqrcode":  # a public image URL: no token, ticket only
            if not request.args.get("ticket"):
                return Response("not found", status=404)
            self._record(platform, endpoint, True)
            return Response(PIXEL, content_type="image/png")
        token = request.args.get("access_token", "")
        with self._lock:
            known = self.tokens.get(token) == platform
        if not known:
            return self._error(platform, endpoint, 42001 if len(token) == 32 else 40014, body)
        fault = self._fault_for(platform, endpoint)
        if fault:
            if fault["http_status"]:
                self._record(platform, endpoint, False, body, fault["http_status"])
                return Response("unavailable", status=fault["http_status"])
            return self._error(platform, endpoint, fault["errcode"], body)
        if endpoint == "media/get":
            if not request.args.get("media_id"):
                return self._error(platform, endpoint, 40007)
            self._record(platform, endpoint, True)
            return Response(PIXEL, content_type="image/png")
        if endpoint == "media/upload":
            return self._upload(platform, endpoint)
        if platform == "wecom" and endpoint == "auth/getuserinfo":
            with self._lock:
                answer = self.oauth_codes.pop(request.args.get("code", ""), None)   # a code works once
            if answer is None:
                return self._error(platform, endpoint, 40029)
            self._record(platform, endpoint, True)
            return jsonify(errcode=0, errmsg="ok", **answer)
        if platform == "wecom" and endpoint in ("department/list", "user/list"):
            return self._contacts(endpoint)
        if endpoint in SENDS and not (body or {}).get("touser"):
            return self._error(platform, endpoint, 40003, body)
        task_id = ((body or {}).get("template_card") or {}).get("task_id")
        if task_id:
            with self._lock:
                seen = task_id in self.task_ids
                self.task_ids.add(task_id)
            if seen:
                return self._error(platform, endpoint, 42014, body)
        entry = self._record(platform, endpoint, True, body)
        if platform == "wecom" and self._wecom_repeat(endpoint, body):
            entry["dropped"] = True     # accepted and answered ok, but not delivered again
        if endpoint in SENDS and self.late_s:
            time.sleep(self.late_s)              # taken already; the answer comes late
        if endpoint == "qrcode/create":
            scene = ((body or {}).get("action_info") or {}).get("scene", {}).get("scene_str", "")
            ticket = base64.urlsafe_b64encode(scene.encode()).decode()
            return jsonify(ticket=ticket, url=f"http://weixin.qq.com/q/{ticket}")
        return jsonify(errcode=0, errmsg="ok", msgid=str(next(self._seq)))

    def _upload(self, platform: str, endpoint: str):
        """media/upload as the Official Account answers it: {type, media_id, created_at} or an errcode."""
        kind = request.args.get("type", "")
        upload = request.files.get("media")
        if kind not in ("image", "voice", "video", "thumb"):
            return self._error(platform, endpoint, 40004)
        if upload is None:
            return self._error(platform, endpoint, 41005)
        data = upload.read()
        if not data or len(data) > 10 * 1024 * 1024:
            return self._error(platform, endpoint, 40006)
        media_id = f"fake-media-{next(self._seq)}-" + secrets.token_hex(8)
        self._record(platform, endpoint, True, {"type": kind, "media_id": media_id, "bytes": len(data)})
        return jsonify(type=kind, media_id=media_id, created_at=int(time.time()))

    def _contacts(self, endpoint: str):
        """department/list?id= (that department and all below) and user/list?department_id=&fetch_child=."""
        with self._lock:
            departments, users = list(self.departments), list(self.users)
        root = request.args.get("id" if endpoint == "department/list" else "department_id", type=int)
        if root is None or not any(d["id"] == root for d in departments):
            return self._error("wecom", endpoint, 60003)
        below, frontier = {root}, {root}
        while frontier:
            frontier = {d["id"] for d in departments if d.get("parentid") in frontier} - below
            below |= frontier
        self._record("wecom", endpoint, True)
        if endpoint == "department/list":
            return jsonify(errcode=0, errmsg="ok", department=[d for d in departments if d["id"] in below])
        wanted = below if request.args.get("fetch_child") == "1" else {root}
        return jsonify(errcode=0, errmsg="ok", userlist=[u for u in users if set(u.get("department", [])) & wanted])

    def blueprint(self) -> Blueprint:
        """The fake's routes: /<platform>/cgi-bin/… plus /_control for tests and the console."""
        bp = Blueprint("fake_platform", __name__)

        @bp.get("/")
        def index():
            """What the fake has received, newest last (the banner's link)."""
            with self._lock:
                calls = [{k: c[k] for k in ("seq", "platform", "endpoint", "ok", "errcode")} for c in self.calls[-50:]]
            return jsonify(fake_platform=True, calls=calls)

        @bp.get("/wechat/cgi-bin/token")
        def mp_token():
            return self.token("wechat")

        @bp.get("/wecom/cgi-bin/gettoken")
        def work_token():
            return self.token("wecom")

        @bp.get("/wecom/connect/oauth2/authorize")
        def authorize():
            """WeCom's authorize page: back to redirect_uri with a code for the person set by sign_in_as."""
            target, state = request.args.get("redirect_uri", ""), request.args.get("state", "")
            if not request.args.get("appid") or not target.startswith(("http://", "https://")):
                return Response("appid and an absolute redirect_uri are required", status=400)
            with self._lock:
                userid = request.args.get("as") or self.oauth_user
            if not userid:   # nobody chosen by a test: ask who is opening the page (dev only)
                hidden = "".join(f'<input type="hidden" name="{k}" value="{escape(v)}">'
                                 for k, v in request.args.items() if k != "as")
                return Response(f'<!doctype html><meta name="viewport" content="width=device-width">'
                                f'<form method="get">{hidden}<p>Fake WeCom sign-in. userid: '
                                f'<input name="as" autofocus> <button>OK</button></p></form>',
                                content_type="text/html; charset=utf-8")
            code = self.oauth_code(userid=userid)
            joiner = "&" if "?" in target else "?"
            return Response(status=302, headers={"Location": f"{target}{joiner}code={code}&state={state}"})

        @bp.post("/_control/sign-in-as")
        def control_sign_in():
            self.sign_in_as((request.get_json(force=True, silent=True) or {}).get("userid"))
            return jsonify(ok=True)

        @bp.route("/<platform>/cgi-bin/<path:endpoint>", methods=["GET", "POST"])
        def api(platform, endpoint):
            if platform not in ("wechat", "wecom"):
                return jsonify(errcode=-1, errmsg="unknown platform"), 404
            return self.api(platform, endpoint)

        @bp.get("/_control/calls")
        def calls():
            since = request.args.get("since", 0, type=int)
            with self._lock:
                return jsonify([c for c in self.calls if c["seq"] > since])

        @bp.post("/_control/faults")
        def add_fault():
            spec = request.get_json(force=True, silent=True) or {}
            self.fail(spec.get("endpoint", "*"), spec.get("errcode"), spec.get("http_status"),
                      spec.get("times"), spec.get("platform", "*"))
            return jsonify(ok=True)

        @bp.delete("/_control/faults")
        def clear():
            self.clear_faults()
            return jsonify(ok=True)

        @bp.post("/_control/expire-tokens")
        def expire():
            self.expire_tokens()
            return jsonify(ok=True)

        return bp


def message_view(body: dict) -> dict:
    """A message the bot sent, as a person reads it: kind, title, text and card buttons."""
    kind = body.get("msgtype") or ("template" if "template_id" in body else "text")
    part = body.get(kind, {})
    if kind == "template_card":
        return {"kind": kind, "title": part.get("main_title", {}).get("title", ""),
                "text": part.get("sub_title_text", ""),
                "buttons": [{"text": b["text"], "key": b["key"]} for b in part.get("button_list", [])]}
    if kind == "template":
        return {"kind": kind, "text": " / ".join(v.get("value", "") for v in body.get("data", {}).values())}
    if kind == "textcard":
        return {"kind": kind, "title": part.get("title", ""), "text": part.get("description", ""),
                "url": part.get("url", "")}
    return {"kind": kind, "text": part.get("content") or part.get("description") or ""}


def standalone_app(fake: FakePlatform | None = None) -> Flask:
    """The fake on its own, for tests and for pointing a second bot at it."""
    app = Flask("fake_platform")
    app.extensions["fake_platform"] = fake or FakePlatform()
    app.register_blueprint(app.extensions["fake_platform"].blueprint())
    return app
