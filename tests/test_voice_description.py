"""A voice without WeChat's Recognition is a valid description: the member's card says 语音留言
and links the audio behind the same signed link as the ticket page."""
import re
from urllib.parse import urlparse

from sqlalchemy import select

from bot import texts
from bot.models import Ticket, TicketEvent


def test_an_unrecognised_voice_becomes_a_ticket_the_member_can_listen_to(bot, people, fake, deliver, client):
    mia = people.resident("o-mia")
    mia.subscribes("grid-g1")
    mia.says("留言")
    assert mia.speaks(None).startswith(texts.LM_VOICE_KEPT)
    mia.says("跳过")
    mia.says("不变")
    no = re.search(r"\d{8}-\d{4}", mia.says("确认")).group(0)
    with bot.db.session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.no == no))
        voice = session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                         TicketEvent.kind == "voice"))
        assert ticket.text == texts.VOICE_DESCRIPTION and voice.data["media_id"]
    deliver()
    card = [c["json"]["template_card"] for c in fake.sent("wecom", "pm01")
            if c["json"]["msgtype"] == "template_card"][-1]
    assert texts.VOICE_DESCRIPTION in card["sub_title_text"]
    row = next(r for r in card["horizontal_content_list"] if r["keyname"] == texts.CARD_VOICE_KEY)
    link = urlparse(row["url"])
    assert link.path == f"/t/{no}/voice"
    audio = client.get(f"{link.path}?{link.query}")
    assert audio.status_code == 200 and audio.mimetype == "audio/amr" and audio.data
    assert client.get(f"{link.path}?{link.query.replace('u=pm01', 'u=pm03')}").status_code == 403
    assert client.get(f"/t/{no}/voice").status_code == 403
