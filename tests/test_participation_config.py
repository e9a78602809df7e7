"""#15 settings: work-log kinds and points, the daily cap, the monthly minimum, the council's timing."""
import pytest

from bot.config import load_config
from bot.errors import ConfigError

GOOD = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def minimal(**extra):
    cfg = {"config_file": None, "wechat": {"token": "t"},
           "wecom": {"token": "t", "corp_id": "ww1", "encoding_aes_key": GOOD}}
    cfg.update(extra)
    return cfg


@pytest.mark.parametrize("change, names", [
    ({"worklog": {"kinds": {"走访": -1}}}, "worklog.kinds"),
    ({"worklog": {"kinds": {"上门 走访": 2}}}, "worklog.kinds"),
    ({"worklog": {"kinds": ["走访"]}}, "worklog.kinds"),
    ({"worklog": {"daily_cap": 0}}, "worklog.daily_cap"),
    ({"members": {"monthly_min_handled": "five"}}, "members.monthly_min_handled"),
    ({"members": {"monthly_check_day": 31}}, "members.monthly_check_day"),
    ({"council": {"candidates_weekday": 7}}, "council.candidates_weekday"),
    ({"council": {"meeting_time": "9点半"}}, "council.meeting_time"),
    ({"council": {"notice_days": 0}}, "council.notice_days"),
])
def test_bad_participation_settings_stop_start_up_naming_the_key(change, names):
    with pytest.raises(ConfigError) as err:
        load_config(minimal(**change), environ={})
    assert names in str(err.value) and "\n" not in str(err.value)


def test_the_defaults_are_valid():
    cfg = load_config(minimal(), environ={})
    assert cfg["members"]["monthly_min_handled"] == 5 and cfg["worklog"]["daily_cap"] == 5
    assert cfg["council"]["notice_days"] == 3
