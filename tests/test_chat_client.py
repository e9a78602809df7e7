"""`python -m bot chat` answers every typed line with a line, never a traceback."""
import threading

import pytest
from werkzeug.serving import make_server

from bot.chat import chat
from tests.conftest import free_port, write_config


def run_chat(settings, tmp_path, monkeypatch, url, lines, role="resident", user="o-term"):
    monkeypatch.setenv("BOT_CONFIG", str(write_config(settings, tmp_path / "chat.yaml")))
    said = iter(lines)
    out = []

    def read(prompt):
        line = next(said)
        if line is EOFError:
            raise EOFError
        return line
    code = chat(role, user, url, read=read, write=lambda text: out.append(str(text)))
    return code, out


def test_no_server_and_bad_lines_get_one_clear_line_each(settings, tmp_path, monkeypatch):
    code, out = run_chat(settings, tmp_path, monkeypatch, f"http://127.0.0.1:{free_port()}",
                         ["/location abc", "/location 30.2", "/card", "/nonsense", "你好", "/quit"])
    assert code == 0
    assert out[1].startswith("usage: /location") and out[2].startswith("usage: /location")
    assert out[3].startswith("usage: /card") and out[4].startswith("unknown command /nonsense")
    assert "cannot reach the bot" in out[5] and "python -m bot serve" in out[5]
    assert not any("Traceback" in line for line in out)


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_against_a_running_bot_lines_become_messages(settings, tmp_path, monkeypatch, people_factory):
    settings["security"] = {"replay_window_s": 0}    # the terminal signs with the wall clock
    app, _ = people_factory(settings)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        code, out = run_chat(settings, tmp_path, monkeypatch, f"http://127.0.0.1:{port}",
                             ["/scan grid-g1", "留言", "/location 30.2745, 120.1549", "/location abc", EOFError])
    finally:
        server.shutdown()
    assert "东区一网格" in out[1] and "请用文字" in out[2] and "已记下您发送的位置" in out[3]
    assert out[4].startswith("usage: /location")
