"""A resident's voice without WeChat's Recognition is a valid description: the ticket keeps the
voice media, its text reads 语音留言, the member's card links the audio behind the signed ticket link."""
from __future__ import annotations

import os
from urllib.parse import quote, urlencode

from flask import Response, current_app, send_file
from sqlalchemy import select

from .. import texts
from ..errors import PlatformError
from ..lifecycle.page import _check, page_query
from ..models import TicketEvent
from ..tickets import record_event, resident_actor
from .web import bp

EVENT = "voice"


def keep(ctx, ticket, resident, media_id: str, notices: list) -> None:
    """Records the voice with the new ticket and adds a 播放语音留言 row to the member's card."""
    record_event(ctx.session, ticket, EVENT, resident_actor(resident), ctx.now, media_id=media_id)
    for reply in notices:
        if reply.kind == "template_card" and reply.channel == "wecom":
            query = urlencode(page_query(ctx.cfg, ticket.no, reply.to, ctx.now))
            url = f"{ctx.cfg['ticket_page']['base_url']}t/{quote(ticket.no)}/voice?{query}"
            reply.body.setdefault("horizontal_content_list", []).append(
                {"keyname": texts.CARD_VOICE_KEY, "value": texts.CARD_VOICE_LINK, "type": 1, "url": url})


@bp.get("/t/<no>/voice")
def ticket_voice(no: str):
    """The resident's voice, for the same signed link as the ticket page (fetched once, then kept)."""
    bot = current_app.extensions["bot"]
    with bot.db.session() as session:
        found = _check(session, bot, no)
        if found is None:
            return Response(texts.PAGE_FORBIDDEN, status=403, content_type="text/plain; charset=utf-8")
        data = session.scalar(select(TicketEvent.data).where(TicketEvent.ticket_id == found[0].id,
                                                             TicketEvent.kind == EVENT)
                              .order_by(TicketEvent.id.desc()).limit(1))
        if not data or not data.get("media_id"):
            return Response(status=404)
        folder = os.path.join(bot.cfg["data_dir"], "media", found[0].no)
        path = os.path.join(folder, "voice.amr")
        if not os.path.exists(path):
            try:
                audio = bot.platform.clients["wechat"].download_media(data["media_id"])
            except PlatformError:
                return Response(status=404)
            os.makedirs(folder, exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(audio)
        return send_file(path, mimetype="audio/amr", max_age=0)
