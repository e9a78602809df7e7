"""Tencent's official test vectors, through the real webhooks."""
import pytest

from bot import create_app
from bot.wire import Wire

WORK_ECHO = {
    "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
    "timestamp": "1409659589",
    "nonce": "263014780",
    "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
}
WORK_ENC = ("RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3Qczcd"
            "CUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd"
            "4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2"
            "r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Nc"
            "x4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uy"
            "PIGHBZZIs2pDBS8R07+qN+E7Q==")
MP_ENC = ("+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqc"
          "vZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMc"
          "p3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3V"
          "IYnSeOBrebufAlr7F9mFUPAJGj04=")


@pytest.fixture
def vector_app(settings, clock, fake):
    settings["security"] = {"replay_window_s": 0}  # the vectors' timestamps are from 2014/2024
    settings["wecom"].update(token="QDG6eK", corp_id="wx5823bf96d3bd56c7",
                             encoding_aes_key="jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C")
    settings["wechat"].update(token="AAAAA", encoding_aes_key="A" * 43, app_id="wxba5fad812f8e6fb9")
    application = create_app(settings, clock=clock)
    application.extensions["bot"].redis.flushdb()
    return application


def test_wecom_url_verification_returns_the_decrypted_echo(vector_app):
    res = vector_app.test_client().get("/wecom", query_string=WORK_ECHO)
    assert res.status_code == 200
    assert res.data == b"1616140317555161061"


def test_wecom_echo_with_unencoded_plus_is_refused_not_crashed(vector_app):
    raw = "&".join(f"{k}={v}" for k, v in WORK_ECHO.items())  # '+' arrives as a space
    res = vector_app.test_client().get("/wecom?" + raw)
    assert res.status_code in (400, 403)


def test_wecom_message_vector_is_decrypted_and_answered(vector_app):
    body = (f"<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[{WORK_ENC}]]>"
            "</Encrypt><AgentID><![CDATA[218]]></AgentID></xml>")
    query = {"msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6",
             "timestamp": "1409659813", "nonce": "1372623149"}
    res = vector_app.test_client().post("/wecom", query_string=query, data=body)
    assert res.status_code == 200
    reply = Wire("wecom", "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
                 "wx5823bf96d3bd56c7").open_reply(res.data)
    # 'mycreate' is not a member of the test organisation: told so, in an encrypted reply.
    assert reply["ToUserName"] == "mycreate"
    assert "只为党员开放" in reply["Content"]


def test_mp_url_verification_returns_echostr_as_is(vector_app):
    query = {"signature": "f464b24fc39322e44b38aa78f5edd27bd1441696", "timestamp": "1714036504",
             "nonce": "1514711492", "echostr": "4375120948345356249"}
    res = vector_app.test_client().get("/wechat", query_string=query)
    assert res.status_code == 200 and res.data == b"4375120948345356249"


def test_mp_safe_mode_vector_is_accepted(vector_app):
    query = {"signature": "6c5c811b55cc85e0e1b54100749188c20beb3f5d", "timestamp": "1714112445",
             "nonce": "415670741", "openid": "o9AgO5Kd5ggOC-bXrbNODIiE3bGY", "encrypt_type": "aes",
             "msg_signature": "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"}
    body = f"<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName><Encrypt><![CDATA[{MP_ENC}]]></Encrypt></xml>"
    res = vector_app.test_client().post("/wechat", query_string=query, data=body)
    # An event the bot does not know (debug_demo) is accepted without a reply.
    assert res.status_code == 200 and res.data == b"success"


def test_mp_vector_with_one_changed_character_is_forbidden(vector_app):
    query = {"timestamp": "1714112445", "nonce": "415670741", "encrypt_type": "aes",
             "msg_signature": "046e02f8204d34f8ba5fa3b1db94908f3df2e9b4"}
    body = f"<xml><Encrypt><![CDATA[{MP_ENC}]]></Encrypt></xml>"
    res = vector_app.test_client().post("/wechat", query_string=query, data=body)
    assert res.status_code == 403
