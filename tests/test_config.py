"""Settings layers and start-up validation: one line naming the key and the fix."""
import pytest

from bot.config import load_config
from bot.errors import ConfigError

GOOD = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def minimal(**extra):
    cfg = {"config_file": None,
           "wechat": {"token": "t"},
           "wecom": {"token": "t", "corp_id": "ww1", "encoding_aes_key": GOOD}}
    for key, value in extra.items():
        cfg.setdefault(key, {}).update(value) if isinstance(value, dict) else cfg.update({key: value})
    return cfg


def test_layers_file_then_environment_then_mapping(tmp_path):
    file = tmp_path / "config.yaml"
    file.write_text("timezone: Asia/Shanghai\nwecom: {secret: from-file, agent_id: 5}\n"
                    "data_dir: ./data\n", encoding="utf-8")
    env = {"BOT_CONFIG": str(file), "BOT_WECOM__SECRET": "from-env", "BOT_WECOM__TOKEN": "tok",
           "BOT_WECOM__CORP_ID": "ww1", "BOT_WECOM__ENCODING_AES_KEY": GOOD,
           "BOT_WECHAT__TOKEN": "mp", "BOT_SECURITY__REPLAY_WINDOW_S": "0",
           "BOT_DEV__CONSOLE": "true"}
    cfg = load_config({}, environ=env)
    assert cfg["wecom"]["secret"] == "from-env" and cfg["wecom"]["agent_id"] == 5
    assert cfg["security"]["replay_window_s"] == 0 and cfg["dev"]["console"] is True
    assert cfg["data_dir"] == str((tmp_path / "data").resolve())  # relative to the file
    cfg = load_config({"wecom": {"secret": "from-test"}}, environ=env)
    assert cfg["wecom"]["secret"] == "from-test"


def test_top_level_keys_from_environment(tmp_path):
    env = {"BOT_DATA_DIR": str(tmp_path / "elsewhere"), "BOT_TIMEZONE": "Asia/Urumqi"}
    cfg = load_config(minimal(), environ=env)
    assert cfg["data_dir"] == str(tmp_path / "elsewhere") and cfg["timezone"] == "Asia/Urumqi"


@pytest.mark.parametrize("change, names", [
    ({"wecom": {"encoding_aes_key": "short"}}, "wecom.encoding_aes_key"),
    ({"wechat": {"encoding_aes_key": "x" * 42}}, "wechat.encoding_aes_key"),
    ({"wechat": {"token": ""}}, "wechat.token"),
    ({"wecom": {"token": ""}}, "wecom.token"),
    ({"wecom": {"corp_id": ""}}, "wecom.corp_id"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"security": {"replay_window_s": -1}}, "security.replay_window_s"),
    ({"security": {"max_body_bytes": "big"}}, "security.max_body_bytes"),
    ({"sla": {"remind_at": 2}}, "sla.remind_at"),
    ({"sla": {"quiet_hours": ["25:00", "07:00"]}}, "sla.quiet_hours"),
    ({"wecom": {"api_base_url": "ftp://x/"}}, "wecom.api_base_url"),
    ({"ticket_page": {"base_url": "bot.example.com"}}, "ticket_page.base_url"),
    ({"ticket_page": {"secret": "short"}}, "ticket_page.secret"),
    ({"ticket_page": {"ttl_days": 0}}, "ticket_page.ttl_days"),
    ({"lifecycle": {"resolution_photo_minutes": "soon"}}, "lifecycle.resolution_photo_minutes"),
    ({"wechat": {"encoding_aes_key": GOOD, "app_id": ""}}, "wechat.app_id"),
    ({"sla": {"working_hours": ["18:00", "09:00"]}}, "sla.working_hours"),
    ({"calendar": {"holidays": ["2027-13-01"]}}, "calendar.holidays"),
    ({"digest": {"time": "8:3x"}}, "digest.time"),
    ({"stars": {"day": 31}}, "stars.day"),
    ({"leave_message": {"max_km_from_grid": -1}}, "leave_message.max_km_from_grid"),
    ({"safety": {"words": {"flood": ["水淹"]}}}, "safety.advice.flood"),
    ({"safety": {"words": {"gas": "燃气"}}}, "safety.words.gas"),
])
def test_bad_settings_stop_start_up_naming_the_key(change, names):
    with pytest.raises(ConfigError) as err:
        load_config(minimal(**change), environ={})
    message = str(err.value)
    assert names in message and "\n" not in message


def test_missing_config_file_named_by_env_is_an_error():
    with pytest.raises(ConfigError, match="does not exist"):
        load_config({}, environ={"BOT_CONFIG": "/nonexistent/config.yaml"})


def test_the_shipped_config_is_valid():
    cfg = load_config({"config_file": "config.yaml"}, environ={})
    assert cfg["dev"]["fake_platform"] is True and cfg["timezone"] == "Asia/Shanghai"


def test_a_bad_setting_stops_a_command_with_one_line(cli, settings, capsys):
    settings["wecom"]["encoding_aes_key"] = "short"
    code, _ = cli("initdb")
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: wecom.encoding_aes_key") and "\n" not in err
    assert "Traceback" not in err
