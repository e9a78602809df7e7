"""Text understanding: the trained model and its fallbacks, learning from history, greetings,
hot topics and duplicates."""
import csv
import json
import logging
from datetime import timedelta
from itertools import product

import pytest
from sqlalchemy import select

from bot.classifier import load, read_csv
from bot.hot import extract_keywords, hot_topics, refresh_hot_topics
from bot.models import Ticket, TicketEvent
from bot.nlp import complaint_part, sentiment, similarity

AUTH = {"Authorization": "Bearer test-admin-token"}
# None of these words is a keyword of the test organisation's categories.
TEMPLATES = {
    "民生服务": (["楼道灯泡", "照明灯", "楼道照明", "地下室灯", "单元门灯", "车库灯"],
                ["黑了好几天", "一直不亮", "忽明忽暗", "坏了没人修", "闪个不停"]),
    "环境卫生": (["楼下垃圾桶", "小区门口", "化粪池", "垃圾站", "楼后空地", "花坛边"],
                ["臭气熏天", "脏乱不堪", "满地纸屑", "苍蝇很多", "堆满杂物"]),
    "矛盾纠纷": (["楼上邻居", "隔壁住户", "对门那家", "楼下商户", "三楼那户", "新搬来的"],
                ["半夜吵闹", "把车横在门口", "和我们吵起来", "天天骂人", "不讲道理"]),
}


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["content", "label"])
        writer.writerows(rows)


def split_rows():
    train, test = [], []
    for label, (subjects, problems) in TEMPLATES.items():
        for n, (subject, problem) in enumerate(product(subjects, problems)):
            (test if n % 5 == 0 else train).append((f"{subject}{problem}，请尽快处理", label))
    return train, test


@pytest.fixture
def model_file(tmp_path, cli):
    train, test = split_rows()
    write_csv(tmp_path / "train.csv", train)
    write_csv(tmp_path / "test.csv", test)
    out = tmp_path / "model.pkl"
    code, said = cli("nlp", "train", "--csv", str(tmp_path / "train.csv"), "--text-column", "content",
                      "--label-column", "label", "--out", str(out))
    assert code == 0 and json.loads(said)["categories"] == sorted(TEMPLATES)
    return out


def test_train_and_eval_on_a_csv(model_file, tmp_path, cli):
    code, said = cli("nlp", "eval", "--csv", str(tmp_path / "test.csv"), "--text-column", "content",
                      "--label-column", "label", "--model", str(model_file))
    result = json.loads(said)
    assert code == 0 and set(result) >= {"micro_f1", "macro_f1", "per_class", "n", "ms_per_message"}
    assert result["n"] == 18 and result["micro_f1"] >= 0.9 and set(result["per_class"]) == set(TEMPLATES)
    code, said = cli("nlp", "eval", "--csv", str(tmp_path / "test.csv"), "--text-column", "content",
                      "--label-column", "label", "--rules")
    assert json.loads(said)["classifier"] == "rules" and json.loads(said)["micro_f1"] < 0.5


def test_a_csv_without_the_named_column_is_refused(tmp_path, cli):
    write_csv(tmp_path / "x.csv", [("a", "b")])
    code, _ = cli("nlp", "train", "--csv", str(tmp_path / "x.csv"), "--text-column", "text",
                   "--label-column", "label", "--out", str(tmp_path / "m.pkl"))
    assert code == 2 and not (tmp_path / "m.pkl").exists()


def test_the_bot_routes_with_the_model(model_file, settings, people_factory):
    settings["nlp"] = {"model": str(model_file)}
    app, people = people_factory(settings)
    bot = app.extensions["bot"]
    no = people.file_ticket("o-model", "楼道照明灯坏了没人修，晚上看不见")
    with bot.db.session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.no == no))
        created = session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))
    assert (ticket.category, ticket.department_id, created.data["category_by"]) == ("民生服务", "d1", "model")


def test_low_confidence_falls_back_to_the_rules(model_file, settings, people_factory):
    settings["nlp"] = {"model": str(model_file), "min_confidence": 0.999}
    app, people = people_factory(settings)
    no = people.file_ticket("o-unsure", "楼道照明灯坏了没人修，晚上看不见")
    with app.extensions["bot"].db.session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.no == no))
    assert ticket.category == "其他"


def test_a_missing_model_falls_back_to_rules_and_says_so(settings, people_factory, tmp_path, caplog):
    settings["nlp"] = {"model": str(tmp_path / "nowhere.pkl")}
    with caplog.at_level(logging.WARNING):
        app, _ = people_factory(settings)
    assert app.extensions["bot"].model is None and "does not exist" in caplog.text


def test_a_model_for_other_categories_falls_back_to_rules(tmp_path, settings, people_factory, caplog, cli):
    write_csv(tmp_path / "other.csv", [(f"城市道路问题{i}", "城乡建设") for i in range(5)]
              + [(f"学校招生问题{i}", "教育文体") for i in range(5)])
    code, _ = cli("nlp", "train", "--csv", str(tmp_path / "other.csv"), "--text-column", "content",
                   "--label-column", "label", "--out", str(tmp_path / "other.pkl"))
    assert code == 0
    settings["nlp"] = {"model": str(tmp_path / "other.pkl")}
    with caplog.at_level(logging.WARNING):
        app, _ = people_factory(settings)
    assert app.extensions["bot"].model is None and "trained for other categories" in caplog.text


def test_learning_from_history(bot, people, tmp_path, cli):
    zhang = people.member("pm01")
    texts = {"民生服务": ["楼道灯泡黑了好几天", "单元门灯一直不亮", "车库灯坏了没人修"],
             "环境卫生": ["楼下垃圾桶臭气熏天", "垃圾站脏乱不堪", "花坛边堆满杂物"]}
    for label, items in texts.items():
        for n, item in enumerate(items):
            no = people.file_ticket(f"o-h{label}{n}", item + "，请尽快处理")   # the rules say 其他
            zhang.says(f"转派 {no} {label}")                                  # a human's label
            zhang.says(f"办结 {no} 已处理")
    code, said = cli("nlp", "train", "--from-history", "--out", str(tmp_path / "h.pkl"))
    assert code == 0 and json.loads(said) == {"model": str(tmp_path / "h.pkl"), "n": 6,
                                              "categories": ["民生服务", "环境卫生"]}
    assert load(str(tmp_path / "h.pkl")).classify("垃圾站苍蝇很多") == "环境卫生"


def test_greetings_do_not_make_a_complaint_positive():
    polite = "尊敬的领导你好，感谢你们的辛勤付出，我们小区停水三天了，谢谢"
    assert complaint_part(polite) == "我们小区停水三天了"
    assert complaint_part("谢谢你们") == "谢谢你们"                # nothing else to score
    from snownlp import SnowNLP
    assert SnowNLP(polite).sentiments > 0.5 > sentiment(polite)


def test_hot_topics_rank_by_distinct_residents_then_recency(bot, people, clock, client):
    for n in range(3):
        people.file_ticket(f"o-lamp{n}", f"东门的路灯坏了第{n + 2}天了，晚上很黑")
    for n in range(2):
        people.file_ticket("o-bin", f"楼下垃圾桶满了第{n + 2}天，没人清理", scene="grid-g2")
    clock.advance(hours=1)
    assert extract_keywords(bot) == 5 and extract_keywords(bot) == 0
    with bot.db.session() as session:
        assert "路灯" in session.scalar(select(Ticket.keywords).order_by(Ticket.id).limit(1))
        topics = hot_topics(session, clock.now() - timedelta(days=7), clock.now())
    top = topics[0]
    assert {"路灯", "东门"} <= set(top["keywords"])
    assert (top["place"], top["residents"], top["tickets"]) == ("幸福里社区东区一网格", 3, 3)
    bins = next(t for t in topics if "垃圾桶" in t["keywords"])
    assert (bins["residents"], bins["tickets"], bins["place"]) == (1, 2, "幸福里社区西区二网格")
    assert client.get("/api/v1/hot-topics", headers=AUTH).get_json()["topics"] == []
    assert refresh_hot_topics(bot) == len(topics)
    assert client.get("/api/v1/hot-topics", headers=AUTH).get_json()["topics"] == topics


@pytest.mark.parametrize("a, b, same", [
    ("东门的路灯坏了，晚上很黑", "东门路灯坏了，晚上特别黑", True),
    ("楼下垃圾桶满了没人清理", "楼下的垃圾桶满了，一直没有人清理", True),
    ("东门的路灯坏了，晚上很黑", "楼上邻居半夜吵闹，睡不着", False),
    ("建议增加健身器材", "东门的路灯坏了", False),
])
def test_duplicate_similarity(a, b, same):
    assert (similarity(a, b) >= 0.5) is same


def test_read_csv_skips_rows_without_text_or_label(tmp_path):
    write_csv(tmp_path / "r.csv", [("有内容", "甲"), ("", "乙"), ("无标签", "")])
    assert read_csv(str(tmp_path / "r.csv"), "content", "label") == (["有内容"], ["甲"])
