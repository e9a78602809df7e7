"""The operators' tools: /metrics, logs, menus, org pull, backup and restore, settings (#16)."""
from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.scheduler import run_job

METRICS_AUTH = {"Authorization": "Bearer metrics-secret"}


def scrape(client) -> dict:
    res = client.get("/metrics", headers=METRICS_AUTH)
    assert res.status_code == 200 and res.content_type.startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(res.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def test_metrics_count_callbacks_latency_jobs_outbox_and_tickets(bot, client, people, fake, deliver):
    bot.cfg["metrics"]["token"] = "metrics-secret"
    people.file_ticket("o-m1", "小区路灯坏了好几天，晚上很黑")     # subscribe + 5 texts
    people.resident("o-m1").event("TEMPLATESENDJOBFINISH", Status="success")
    people.member("pm01").says("我的工单")
    query, body = people.resident("o-m2").deliver({"MsgType": "text", "Content": "x"})
    query["msg_signature"] = "0" * 40
    assert client.post("/wechat", query_string=query, data=body).status_code == 403
    fake.fail("message/send", errcode=81013)
    deliver()
    run_job(bot, "boom", lambda b: 1 / 0)
    run_job(bot, "fine", lambda b: None)
    s = scrape(client)
    assert value(s, "bot_callbacks_total", channel="wechat", kind="text", outcome="handled") == 5
    assert value(s, "bot_callbacks_total", channel="wechat", kind="event.subscribe", outcome="handled") == 1
    assert value(s, "bot_callbacks_total", channel="wechat", kind="event.templatesendjobfinish",
                 outcome="ignored") == 1
    assert value(s, "bot_callbacks_total", channel="wechat", kind="-", outcome="forbidden") == 1
    assert value(s, "bot_callbacks_total", channel="wecom", kind="text", outcome="handled") == 1
    assert value(s, "bot_callback_seconds_count", channel="wechat") == 8
    assert value(s, "bot_callback_seconds_bucket", channel="wechat", le="+Inf") == 8
    assert value(s, "bot_job_runs_total", job="boom") == 1
    assert value(s, "bot_job_failures_total", job="boom") == 1
    assert value(s, "bot_job_failures_total", job="fine") == 0
    assert value(s, "bot_outbox_failed", errcode="81013") >= 1
    assert value(s, "bot_tickets", status="assigned") == 1


def test_metrics_need_their_own_token(bot, client):
    assert client.get("/metrics").status_code == 404                # off until a token is set
    bot.cfg["metrics"]["token"] = "metrics-secret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer test-admin-token"}).status_code == 401
    assert client.get("/metrics", headers=METRICS_AUTH).status_code == 200


@pytest.fixture(autouse=True)
def _no_leftover_metrics(bot):
    from bot.ops.metrics import CALLBACKS, JOBS, LATENCY
    bot.redis.delete(CALLBACKS, JOBS, LATENCY)


# -- logs ---------------------------------------------------------------------------------

def test_json_logs_are_one_event_a_line_with_channel_kind_user_hash_ticket_and_duration(bot, people):
    import io
    import json
    import logging

    from bot.ops.logs import setup_logging, user_hash

    out = io.StringIO()
    handler = setup_logging({"log": {"format": "json", "level": "INFO"}}, stream=out)
    try:
        no = people.file_ticket("o-json", "小区路灯坏了好几天，电话13812345678")
        logging.getLogger("bot.test").info("ticket %s phone 13812345678", no)
    finally:
        logging.getLogger().removeHandler(handler)
    events = [json.loads(line) for line in out.getvalue().splitlines()]   # every line is one JSON object
    callbacks = [e for e in events if e.get("kind") == "text" and e.get("channel") == "wechat"]
    assert len(callbacks) == 5
    assert {e["user"] for e in callbacks} == {user_hash("o-json")}
    assert all(isinstance(e["duration_ms"], float) and e["outcome"] == "handled" for e in callbacks)
    [mine] = [e for e in events if e["logger"] == "bot.test"]
    assert mine["ticket"] == no
    assert "13812345678" not in out.getvalue() and "o-json" not in out.getvalue()


def test_plain_logs_by_default(bot):
    import io
    import logging

    from bot.ops.logs import setup_logging

    out = io.StringIO()
    handler = setup_logging({"log": {"format": "text"}}, stream=out)
    try:
        logging.getLogger("bot.test").warning("call 13812345678")
    finally:
        logging.getLogger().removeHandler(handler)
    assert out.getvalue().rstrip().endswith("WARNING bot.test: call 138****5678")


def test_the_engine_hides_statement_parameters(bot):
    assert bot.db.engine.hide_parameters is True


# -- backup and restore -------------------------------------------------------------------

def test_backup_then_restore_into_an_empty_install_keeps_tickets_photos_and_the_audit_chain(
        bot, people, cli, settings, fresh_database, tmp_path, deliver):
    from pathlib import Path

    from sqlalchemy import create_engine, select

    from bot.audit import seal_pending
    from bot.models import Ticket

    nos = [people.file_ticket(f"o-b{i}", f"{i}号楼路灯坏了好几天，晚上很黑") for i in range(3)]
    people.member("pm01").says(f"回复 {nos[0]} 已安排电工")
    seal_pending(bot)
    photo = Path(bot.cfg["data_dir"]) / "media" / nos[0] / "1.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(b"\xff\xd8photo")
    code, out = cli("backup", "--out", str(tmp_path / "backups"))
    assert code == 0, out
    [archive] = list((tmp_path / "backups").glob("backup-*.tar"))
    assert "3 tickets" in out
    settings["database"] = {"url": fresh_database}           # a new, empty install
    settings["data_dir"] = str(tmp_path / "restored")
    code, out = cli("restore", str(archive))
    assert code == 0, out
    assert "audit chain intact" in out
    engine = create_engine(fresh_database)
    with engine.connect() as conn:
        assert sorted(conn.scalars(select(Ticket.no))) == sorted(nos)
    engine.dispose()
    assert (tmp_path / "restored" / "media" / nos[0] / "1.jpg").read_bytes() == b"\xff\xd8photo"
    code, out = cli("audit", "verify")
    assert code == 0 and "audit chain intact" in out
    code, _ = cli("restore", str(archive))                    # not over an install that has tickets
    assert code == 2


def test_a_damaged_backup_is_refused(bot, people, cli, tmp_path, capsys):
    import tarfile

    people.file_ticket("o-d", "小区路灯坏了好几天，晚上很黑")
    code, _ = cli("backup", "--out", str(tmp_path / "b.tar"))
    assert code == 0
    with tarfile.open(tmp_path / "b.tar") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    name = next(n for n in members if n.startswith("database"))
    middle = len(members[name]) // 2
    members[name] = members[name][:middle] + bytes(b ^ 0xFF for b in members[name][middle:middle + 64]) \
        + members[name][middle + 64:]
    with tarfile.open(tmp_path / "bad.tar", "w") as tar:
        import io
        for n, data in members.items():
            info = tarfile.TarInfo(n)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    from bot.ops.backup import BackupError, check
    with pytest.raises(BackupError, match="checksum"):
        check(tmp_path / "bad.tar")


# -- menus --------------------------------------------------------------------------------

def test_menu_create_sends_the_configured_menu_to_each_platform(bot, cli, fake, client):
    code, out = cli("menu", "create")
    assert code == 0, out
    code, out = cli("menu", "create", "--wecom")
    assert code == 0, out
    mp, work = [c for c in fake.calls if c["endpoint"] == "menu/create"]
    assert mp["platform"] == "wechat" and work["platform"] == "wecom"
    assert work["params"] == {"agentid": "1000002"}
    assert [b["name"] for b in mp["json"]["button"]] == ["我要留言", "预约服务", "我的"]
    assert mp["json"]["button"][2]["sub_button"][0] == {"type": "click", "name": "办理进度", "key": "MY_TICKETS"}
    assert [b.get("key") for b in work["json"]["button"]] == ["MY_QUEUE", "OVERDUE", None]


@pytest.mark.parametrize("menu,words", [
    ([{"name": "a", "key": "LEAVE_MESSAGE"}] * 4, "3 at most"),
    ([{"name": "留言", "key": "NO_SUCH_KEY"}], "menu.wechat[0] key 'NO_SUCH_KEY'"),
    ([{"name": "一个名字实在太长的菜单", "key": "LEAVE_MESSAGE"}], "too long"),
    ([{"name": "我的", "sub_button": [{"name": "x", "key": "RATE"}] * 6}], "1 to 5"),
    ([{"name": "官网", "url": "ftp://x"}], "http"),
])
def test_a_wrong_menu_is_refused_before_any_call(settings, cli, fake, menu, words):
    settings["menu"] = {"wechat": menu}
    code, _ = cli("menu", "create")
    assert code == 2
    assert [c for c in fake.calls if c["endpoint"] == "menu/create"] == []


def test_a_wrong_menu_names_the_button(settings, cli, capsys):
    settings["menu"] = {"wechat": [{"name": "留言", "key": "NO_SUCH_KEY"}]}
    cli("menu", "create")
    assert "menu.wechat[0] key 'NO_SUCH_KEY' is not one the bot answers" in capsys.readouterr().err


def test_the_wecom_menu_clicks_run_the_members_commands(people):
    from bot import texts

    pm01 = people.member("pm01")
    assert pm01.clicks("CHECKIN") == texts.PT_CHECKED_IN.format(n=1)
    assert pm01.clicks("MY_QUEUE") == pm01.says("我的工单")
    assert pm01.clicks("HELP") == texts.MEMBER_MENU
    assert people.member("nobody").clicks("MY_QUEUE") == texts.MEMBER_UNKNOWN


def test_the_dev_console_shows_the_configured_menu(settings, people_factory):
    settings["dev"] = {"console": True, "fake_platform": False}
    settings["menu"] = {"wechat": [{"name": "我要留言", "key": "LEAVE_MESSAGE"},
                                   {"name": "我的", "sub_button": [{"name": "进度", "key": "MY_TICKETS"}]}]}
    app, _ = people_factory(settings)
    page = app.test_client().get("/dev/").get_data(as_text=True)
    assert '<button data-key="LEAVE_MESSAGE">我要留言</button>' in page
    assert '<button data-key="MY_TICKETS">进度</button>' in page
    assert "BOOK_SERVICE" not in page


# -- org pull -----------------------------------------------------------------------------

def contacts(fake):
    fake.departments = [{"id": 1, "name": "幸福里社区", "parentid": 0, "order": 1},
                        {"id": 2, "name": "第一党支部", "parentid": 1, "order": 1},
                        {"id": 3, "name": "综治办", "parentid": 1, "order": 2},
                        {"id": 4, "name": "网格服务站", "parentid": 3, "order": 1}]
    user = lambda userid, name, depts, status=1: {  # noqa: E731
        "userid": userid, "name": name, "department": depts, "order": [0] * len(depts), "position": "",
        "mobile": "", "gender": "1", "email": "", "is_leader_in_dept": [0] * len(depts), "avatar": "",
        "status": status, "main_department": depts[0]}
    fake.users = [user("sec01", "王书记", [2]), user("pm01", "张三丰", [2]), user("pm02", "李四", [2, 4]),
                  user("pm03", "王五", [3]), user("pm04", "钱七", [2]), user("pm05", "孙八", [2], status=5)]


@pytest.fixture
def own_org(settings, tmp_path):
    from pathlib import Path
    text = (Path(__file__).parent / "data" / "org.yaml").read_text(encoding="utf-8")
    text = text.replace("secretary: sec01}", "secretary: sec01, wecom_department: 2}")
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    settings["org_file"] = str(path)
    return path


def test_org_pull_dry_run_prints_the_diff_and_changes_nothing(bot, cli, fake, own_org):
    contacts(fake)
    before = own_org.read_text(encoding="utf-8")
    code, out = cli("org", "pull", "--dry-run")
    assert code == 0, out
    assert "+ member pm04 钱七 (branch b1)" in out
    assert "~ member pm01: name 张三 → 张三丰" in out
    assert "+ department wecom-4 网格服务站" in out and "wecom-3" not in out   # 综治办 is known by name
    assert "! member sec02" in out and "pm05" not in out                     # pm05 has left WeCom
    assert "+- {userid: pm04" in out or "+- userid: pm04" in out               # the diff itself
    assert own_org.read_text(encoding="utf-8") == before


def test_org_pull_merges_wecom_into_org_yaml_keeping_roles_grids_and_skills(bot, cli, fake, own_org):
    from sqlalchemy import select

    from bot.models import Department, Grid, Member

    contacts(fake)
    code, out = cli("org", "pull")
    assert code == 0, out
    assert own_org.with_suffix(".yaml.bak").exists()
    with bot.db.session() as session:
        pm04 = session.get(Member, "pm04")
        assert (pm04.name, pm04.branch_id, pm04.active) == ("钱七", "b1", True)
        pm01 = session.get(Member, "pm01")
        assert (pm01.name, pm01.skills) == ("张三丰", ["矛盾调解", "政策咨询"])
        assert session.get(Member, "sec01").role == "secretary"
        assert session.get(Grid, "g1").member_id == "pm01"
        assert session.scalar(select(Department).where(Department.name == "网格服务站")).id == "wecom-4"
    code, out = cli("org", "pull")
    assert code == 0 and "! member sec02" in out and "+ member" not in out   # a second pull adds nothing


def test_org_pull_says_what_the_platform_refused(bot, cli, fake, own_org, capsys):
    fake.fail("department/list", errcode=60011)
    code, _ = cli("org", "pull")
    assert code == 2
    assert "errcode 60011" in capsys.readouterr().err


# -- the settings schema ------------------------------------------------------------------

@pytest.mark.parametrize("section,key,value,words", [
    ("leave_message", "max_photos", "three", "leave_message.max_photos must be a whole number from 0 to 9"),
    ("leave_message", "max_photos", 12, "from 0 to 9"),
    ("booking", "days_ahead", -1, "booking.days_ahead must be a whole number >= 0"),
    ("outbox", "batch", 2.5, "outbox.batch must be a whole number"),
    ("outbox", "max_attempts", 0, "outbox.max_attempts"),
    ("points", "checkin", "one", "points.checkin must be a number >= 0"),
    ("rating", "expire_days", 0, "rating.expire_days"),
    ("flows", "ttl_s", True, "flows.ttl_s"),
    ("dev", "console", "maybe", "dev.console must be true or false"),
    ("nlp", "urgent_words", "燃气", "nlp.urgent_words must be a list"),
    ("log", "format", "xml", "log.format must be one of text, json"),
    ("appraisal", "quality", 40, "appraisal.quality must be a number from 0 to 1"),
])
def test_every_section_is_checked_at_start_up_naming_the_key(settings, section, key, value, words):
    from bot.config import load_config
    from bot.errors import ConfigError

    settings[section] = {key: value}
    with pytest.raises(ConfigError) as err:
        load_config(settings)
    assert words in str(err.value)


def test_a_section_that_is_not_a_mapping_is_named(settings):
    from bot.config import load_config
    from bot.errors import ConfigError

    settings["booking"] = 5
    with pytest.raises(ConfigError, match="booking must be a mapping of settings"):
        load_config(settings)


def test_a_new_key_with_a_default_is_checked_without_a_line_of_schema(settings, monkeypatch):
    from bot import config
    from bot.errors import ConfigError

    monkeypatch.setitem(config.DEFAULTS, "example_section", {"quorum": 3, "enabled": False})
    settings["example_section"] = {"quorum": "many"}
    with pytest.raises(ConfigError, match="example_section.quorum must be a number"):
        config.load_config(settings)
    settings["example_section"] = {"quorum": 5, "enabled": True}
    assert config.load_config(settings)["example_section"] == {"quorum": 5, "enabled": True}


def test_a_numeric_token_written_without_quotes_is_read_as_text(settings):
    from bot.config import load_config

    settings["wechat"]["token"] = 123456
    assert load_config(settings)["wechat"]["token"] == "123456"


def test_the_shipped_config_and_defaults_pass(settings):
    from pathlib import Path

    from bot.config import load_config

    root = Path(__file__).resolve().parents[1]
    cfg = load_config({"config_file": str(root / "config.yaml")}, environ={})
    assert cfg["dev"]["console"] is True
