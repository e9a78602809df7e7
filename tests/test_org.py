"""The organisation file: loaded idempotently; a bad file is refused with its line, old data kept."""
import shutil

import pytest
from sqlalchemy import func, select

from bot.errors import OrgFileError
from bot.models import Branch, Category, Grid, Member
from bot.org import load_org


def counts(bot):
    with bot.db.session() as session:
        return {m.__name__: session.scalar(select(func.count()).select_from(m))
                for m in (Branch, Member, Grid, Category)}


def test_sync_twice_gives_the_same_database(bot):
    first = counts(bot)
    bot.sync_org()
    assert counts(bot) == first == {"Branch": 2, "Member": 5, "Grid": 3, "Category": 4}
    with bot.db.session() as session:
        grid = session.get(Grid, "g1")
        assert (grid.member_id, grid.backup_id, grid.qr_scene, grid.lat) == ("pm01", "pm02", "grid-g1", 30.2741)
        cat = session.get(Category, "意见建议")
        assert (cat.response_h, cat.reply_h, cat.department_id) == (72, 120, "d3")


@pytest.mark.parametrize("edit, reason", [
    (("member: pm01, backup: pm02", "member: pm99, backup: pm02"), "member 'pm99' is not among members"),
    (("qr_scene: grid-g2", "qr_scene: grid-g1"), "qr_scene 'grid-g1' is used by another grid"),
    (("department: d2}", "department: d9}"), "department 'd9' is not among departments"),
    (("{userid: pm02, name: 李四, branch: b1", "{userid: pm02, name: 李四, branch: b7"), "branch 'b7'"),
    (("centre: [30.2741, 120.1551]", "centre: [300, 120.1551]"), "centre must be"),
    (("weekly: saturday", "weekly: caturday"), "weekly must be a weekday"),
    (('end: "12:00"', "end: 12:00"), 'end must be a time like "09:00"'),       # YAML reads 720
    (('end: "12:00"', 'end: "08:00"'), "start must be before end"),
    (("branches:", "branches: ["), "not valid YAML"),
])
def test_a_bad_file_is_refused_with_line_and_reason_and_old_data_stays(bot, tmp_path, edit, reason):
    before = counts(bot)
    bad = tmp_path / "org.yaml"
    shutil.copy(bot.cfg["org_file"], bad)
    text = bad.read_text(encoding="utf-8")
    assert edit[0] in text
    bad.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    bot.cfg["org_file"] = str(bad)
    with pytest.raises(OrgFileError) as err:
        bot.sync_org()
    assert reason in str(err.value)
    assert str(err.value).startswith(f"{bad}:") and str(err.value).split(":")[1].strip().isdigit()
    assert counts(bot) == before


def test_a_member_left_out_is_deactivated_not_deleted(bot, tmp_path):
    smaller = tmp_path / "org.yaml"
    text = open(bot.cfg["org_file"], encoding="utf-8").read()
    text = text.replace("  - {userid: pm03, name: 王五, branch: b2, skills: [政策咨询]}\n", "")
    text = text.replace("member: pm03, qr_scene: grid-g3", "qr_scene: grid-g3")
    smaller.write_text(text, encoding="utf-8")
    bot.cfg["org_file"] = str(smaller)
    bot.sync_org()
    with bot.db.session() as session:
        assert session.get(Member, "pm03").active is False


def test_the_demo_org_file_is_valid():
    doc = load_org("org.yaml")
    assert {g["id"] for g in doc["grids"]} == {"g1", "g2"}
