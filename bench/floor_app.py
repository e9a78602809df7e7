"""The floor for the webhook benchmark: a minimal Flask + wechatpy app that only verifies,
decrypts, parses and replies — what any WeChat bot must do at least."""
import os

from flask import Flask, request
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply

crypto = WeChatCrypto(os.environ["FLOOR_TOKEN"], os.environ["FLOOR_AES_KEY"], os.environ["FLOOR_APP_ID"])
app = Flask(__name__)


@app.post("/wechat")
def wechat():
    args = request.args
    xml = crypto.decrypt_message(request.data, args["msg_signature"], args["timestamp"], args["nonce"])
    message = parse_message(xml)
    reply = TextReply(content="收到", message=message)
    return crypto.encrypt_message(reply.render(), args["nonce"], args["timestamp"])
