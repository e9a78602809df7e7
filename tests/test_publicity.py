"""公示: the reporter's consent, the public page (no personal data in its HTML), hiding; 金点子 and 案例."""
import re
from datetime import timedelta

from sqlalchemy import select

from bot import texts
from bot.models import Case, Publicity
from bot.participation.publicity import innovation_counts

AUTH = {"Authorization": "Bearer test-admin-token"}
LAMP = "幸福里社区3号楼的路灯坏了一个多星期，晚上出门很不方便，联系电话13812345678"
BIN = "东门垃圾桶满了好几天没人清运，异味很大，我是住在5单元的刘女士"
NOISE = "楼上邻居天天半夜装修噪音太大，物业也不管"


def texts_to(fake, platform, user):
    return [c["json"]["text"]["content"] for c in fake.sent(platform, user) if c["json"]["msgtype"] == "text"]


def resolved(people, openid, text, summary):
    no = people.file_ticket(openid, text)
    people.member("pm01").says(f"办结 {no} {summary}")
    return no


def test_consent_publication_hiding_and_no_personal_data_in_the_page(bot, people, client, fake, deliver):
    zhang, sec = people.member("pm01"), people.member("sec01")
    alice, bob, carol = people.resident("o-alice"), people.resident("o-bob"), people.resident("o-carol")
    yes = resolved(people, "o-alice", LAMP, "已更换3号楼路灯，电工王师傅13987654321，党员张三回访")
    assert zhang.sends_photo("media-fixed-1").startswith(texts.W_PHOTO_FORWARDED.format(no=yes)[:6])
    assert alice.says("满意") == texts.RATE_THANKS + "\n\n" + texts.RATE_ASK_COMMENT
    assert alice.says("跳过") == texts.RATE_SKIPPED + "\n\n" + texts.CONSENT_ASK
    assert alice.says("同意") == texts.CONSENT_YES
    no = resolved(people, "o-bob", BIN, "已清运垃圾并联系环卫增加班次")
    bob.says("满意")
    bob.says("跳过")
    assert bob.says("不同意") == texts.CONSENT_NO
    later = resolved(people, "o-carol", NOISE, "已约谈装修户，限定施工时间")
    carol.says("基本满意")
    assert carol.says("谢谢党员同志") == texts.RATE_COMMENT_SAVED + "\n\n" + texts.CONSENT_ASK
    assert later in carol.says("查询")                  # not an answer: read as usual, nothing published
    with bot.db.session() as session:
        consents = {row.ticket_id: row.consent for row in session.scalars(select(Publicity))}
    assert sorted(consents.values(), key=str) == [False, True]

    page = client.get("/public/b1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "幸福里社区 办理结果公示" in html
    assert "已更换*号楼路灯" in html and "东区一网格" in html
    photos = re.findall(r'<img src="(/public/b1/photo/\d+)"', html)
    assert len(photos) == 1 and texts.PUBLIC_PHOTO_ALT in html
    photo = client.get(photos[0])
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg" and photo.data
    assert client.get(photos[0].replace("/b1/", "/b2/")).status_code == 404
    assert "已清运垃圾" not in html and "已约谈装修户" not in html
    for personal in ("o-alice", "o-bob", "o-carol", "13812345678", "13987654321", "张三", "王书记", "李四",
                     "刘女士", "王师傅", "3号楼", "5单元", "居民#", yes, no, later, "pm01", "sec01"):
        assert personal not in html, personal
    assert client.get("/public/nowhere").status_code == 404

    assert zhang.says(f"隐藏公示 {yes}") == texts.W_SECRETARY_ONLY.format(action="隐藏公示")
    assert sec.says(f"隐藏公示 {yes}") == texts.PUB_HIDDEN.format(no=yes)
    assert "已更换*号楼路灯" not in client.get("/public/b1").get_data(as_text=True)
    assert client.get(photos[0]).status_code == 404
    assert sec.says(f"恢复公示 {no}") == texts.PUB_NO_CONSENT.format(no=no)
    assert "已清运垃圾" not in client.get("/public/b1").get_data(as_text=True)
    assert sec.says(f"恢复公示 {yes}") == texts.PUB_SHOWN.format(no=yes)
    assert "已更换*号楼路灯" in client.get("/public/b1").get_data(as_text=True)
    assert people.member("sec02").says(f"隐藏公示 {yes}") == texts.W_OUT_OF_SCOPE.format(no=yes)
    assert alice.says("公示") == texts.PUBLIC_LINK.format(url="http://127.0.0.1:8000/public/b1")
    assert alice.clicks("PUBLICITY") == texts.PUBLIC_LINK.format(url="http://127.0.0.1:8000/public/b1")
    assert people.resident("o-nobody").says("公示") == texts.PUBLIC_NO_BRANCH


def test_golden_ideas_and_cases(bot, people, client, fake, deliver, clock):
    sec = people.member("sec01")
    idea = people.file_ticket("o-dave", "建议在小区东门增设快递柜，方便上班族取件")
    assert sec.says(f"金点子 {idea}") == texts.GOLDEN_DONE.format(no=idea)
    assert sec.says(f"金点子 {idea}") == texts.GOLDEN_ALREADY.format(no=idea)
    assert people.member("pm01").says(f"金点子 {idea}") == texts.W_SECRETARY_ONLY.format(action="金点子")
    deliver()
    assert texts_to(fake, "wechat", "o-dave")[-1] == texts.GOLDEN_THANKS.format(no=idea)
    # Shown on the page once handled and the resident agrees.
    people.member("pm01").says(f"办结 {idea} 已协调物业在东门安装快递柜")
    dave = people.resident("o-dave")
    dave.says("满意")
    dave.says("跳过")
    dave.says("同意")
    html = client.get("/public/b1").get_data(as_text=True)
    golden = html.split('id="golden"')[1].split("</section>")[0]
    assert "已协调物业在东门安装快递柜" in golden and "上班族" not in html   # the member's words, not the resident's

    lamp = people.file_ticket("o-alice", LAMP)
    assert sec.says(f"案例 {lamp} 路灯快修") == texts.CASE_NOT_DONE.format(no=lamp)
    people.member("pm01").says(f"办结 {lamp} 已更换路灯")
    assert sec.says(f"案例 {lamp}") == texts.CASE_USAGE
    assert sec.says(f"案例 {lamp} 路灯快修") == texts.CASE_DONE.format(no=lamp, title="路灯快修")
    assert sec.says(f"案例 {lamp} 又一次") == texts.CASE_ALREADY.format(no=lamp)
    assert client.get("/api/v1/cases").status_code == 401
    cases = client.get("/api/v1/cases", headers=AUTH).get_json()["cases"]
    assert [(c["ticket"], c["title"], c["branch"], c["resolution"]) for c in cases] == \
        [(lamp, "路灯快修", "b1", "已更换路灯")]
    with bot.db.session() as session:
        assert session.scalar(select(Case.title)) == "路灯快修"
        window = (clock.now() - timedelta(days=1), clock.now() + timedelta(days=1))
        assert innovation_counts(session, *window, "b1") == {"golden": 1, "cases": 1, "innovation": 2}
        assert innovation_counts(session, *window, "b2") == {"golden": 0, "cases": 0, "innovation": 0}


def test_cancelling_the_consent_question_publishes_nothing(bot, people, client):
    no = resolved(people, "o-gina", LAMP, "已更换路灯")
    gina = people.resident("o-gina")
    gina.says("满意")
    assert gina.says("跳过") == texts.RATE_SKIPPED + "\n\n" + texts.CONSENT_ASK
    assert gina.says("取消") == texts.CONSENT_NO           # #20: 取消 / 算了 here is 不同意, said as such
    assert gina.says("同意") != texts.CONSENT_YES          # the question is over
    with bot.db.session() as session:
        assert session.scalar(select(Publicity.consent)) is False
    assert "已更换路灯" not in client.get("/public/b1").get_data(as_text=True)
    assert people.member("sec01").says(f"恢复公示 {no}") == texts.PUB_NO_CONSENT.format(no=no)
