"""Work after a ticket exists: sentiment raising priority, QR codes, and lean web workers."""
import subprocess
import sys
import textwrap
from datetime import timedelta

from sqlalchemy import select

from bot import texts
from bot.aftercare import score_sentiment
from bot.models import Ticket, TicketEvent
from bot.qrcodes import create_grid_codes


def leave(person, text):
    person.subscribes("grid-g1")
    for said in ("留言", text, "跳过", "不变", "确认"):
        person.says(said)


def test_an_angry_complaint_becomes_urgent_and_the_assignee_is_told(bot, people, fake, clock, deliver):
    leave(people.resident("o-angry"),
          "尊敬的领导您好，垃圾堆了半个月没人管，臭气熏天，苍蝇乱飞，我们实在忍无可忍了！谢谢")
    leave(people.resident("o-calm"), "小区3号楼的路灯坏了一个多星期，晚上出门不方便")
    deliver()
    assert score_sentiment(bot) == 2
    with bot.db.session() as session:
        angry, calm = session.scalars(select(Ticket).order_by(Ticket.id)).all()
        kinds = [e.kind for e in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == angry.id))]
    assert angry.priority == "urgent" and kinds[-1] == "priority_raised"
    assert angry.response_due_at == angry.created_at + timedelta(hours=4)
    assert calm.priority == "normal" and calm.sentiment is not None
    deliver()
    assert [c["json"]["text"]["content"] for c in fake.sent("wecom", "pm01") if c["json"]["msgtype"] == "text"] \
        == [texts.PRIORITY_RAISED.format(no=angry.no)]
    assert score_sentiment(bot) == 0          # each ticket is scored once


def test_qr_codes_are_created_for_every_grid(bot, fake, tmp_path):
    saved = create_grid_codes(bot, str(tmp_path))
    assert [grid for grid, _ in saved] == ["g1", "g2", "g3"]
    assert open(saved[0][1], "rb").read().startswith(b"\x89PNG")
    scenes = [c["json"]["action_info"]["scene"]["scene_str"] for c in fake.calls if c["endpoint"] == "qrcode/create"]
    assert scenes == ["grid-g1", "grid-g2", "grid-g3"]


def test_web_workers_never_import_snownlp(settings):
    script = textwrap.dedent(f"""
        import sys
        from bot import create_app
        from bot.simulator import Person
        app = create_app({settings!r})
        app.extensions["bot"].redis.flushdb()
        def post(path, q, b):
            r = app.test_client().post(path, query_string=q, data=b)
            return r.status_code, r.data
        p = Person(app.extensions["bot"].cfg, "wechat", "o-lean", post)
        for said in ("留言", "楼道里有很浓的燃气味，物业没人管", "跳过", "光明路社区5栋", "确认"):
            p.says(said)
        print("snownlp" in sys.modules, "jieba" in sys.modules, "sklearn" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-3:] == ["False", "False", "False"]
