"""The dev console, driven in headless Chromium (Debian's) through a whole 留言 → 回复 → 办结 → 评价
cycle; a screenshot is written to test-output/console.png."""
from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from bot.outbox import OutboxWorker
from tests.conftest import People, free_port

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def console(settings, people_factory):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings["dev"] = {"console": True, "fake_platform": True}
    settings["wechat"].update(api_base_url=f"{base}/_fake/wechat/cgi-bin/",
                              qrcode_url=f"{base}/_fake/wechat/cgi-bin/showqrcode")
    settings["wecom"]["api_base_url"] = f"{base}/_fake/wecom/cgi-bin/"
    settings["outbox"] = {"poll_s": 0.2}
    app, _ = people_factory(settings)
    bot = app.extensions["bot"]
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    worker = OutboxWorker(bot)
    thread = threading.Thread(target=worker.run_forever, daemon=True)
    thread.start()
    yield base, app
    worker.stop()
    thread.join(timeout=10)    # no pass of this worker may take the next test's messages
    server.shutdown()


def test_console_is_off_in_production(client):
    assert client.get("/dev/").status_code == 404


def test_console_api_refuses_bad_requests(console):
    import requests

    base, _ = console
    for spec in ({"role": "admin", "user": "x", "kind": "text"}, {"role": "resident", "user": "x", "kind": "fax"},
                 {"role": "resident", "user": "x", "kind": "location", "value": "here"}):
        assert requests.post(f"{base}/dev/api/send", json=spec).status_code == 400


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_a_full_cycle_in_the_browser(console):
    from playwright.sync_api import expect, sync_playwright

    base, app = console
    timeout = 15000
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/dev/")
        resident, member = page.locator("#resident-chat"), page.locator("#member-chat")
        page.fill("#resident-id", "o-console")
        page.select_option("#grid", "grid-g1")
        page.click('[data-action="scan"]')
        expect(resident).to_contain_text("东区一网格", timeout=timeout)

        def resident_says(text, expected):
            page.fill("#resident-form input", text)
            page.press("#resident-form input", "Enter")
            expect(resident).to_contain_text(expected, timeout=timeout)

        def member_says(text, expected):
            page.fill("#member-form input", text)
            page.press("#member-form input", "Enter")
            expect(member).to_contain_text(expected, timeout=timeout)

        page.click('[data-key="LEAVE_MESSAGE"]')
        expect(resident).to_contain_text("请用文字或语音描述", timeout=timeout)
        resident_says("东门的路灯坏了一个多星期，晚上出门很不方便", "如有现场照片")
        resident_says("跳过", "问题发生在哪里")
        resident_says("不变", "请核对您的留言")
        resident_says("确认", "留言已提交")
        expect(page.locator("#ticket-status")).to_have_text("assigned", timeout=timeout)
        no = re.search(r"\d{8}-\d{4}", page.locator("#ticket-body").inner_text()).group(0)

        accept = member.get_by_role("button", name="接单")
        expect(accept).to_be_visible(timeout=timeout)
        accept.click()
        expect(member).to_contain_text(f"已接单 {no}", timeout=timeout)
        expect(resident).to_contain_text("已由党员张*接单", timeout=timeout)
        member_says(f"回复 {no} 已安排电工明早维修", "已把回复发送给居民")
        expect(resident).to_contain_text("已安排电工明早维修", timeout=timeout)
        member.get_by_role("button", name="办结").first.click()
        expect(member).to_contain_text("请输入办结说明", timeout=timeout)
        member_says("路灯已更换，恢复照明", f"工单 {no} 已办结")
        expect(resident).to_contain_text("请为办理结果评价", timeout=timeout)
        resident_says("满意", "感谢您的评价")
        expect(page.locator("#ticket-status")).to_have_text("closed", timeout=timeout)
        out = ROOT / "test-output"
        out.mkdir(exist_ok=True)
        page.screenshot(path=str(out / "console.png"), full_page=True)
        browser.close()
    assert (ROOT / "test-output" / "console.png").stat().st_size > 10_000


def test_the_chat_client_and_console_read_pushes_the_same_way(bot, people, fake, deliver):
    from bot.chat import describe

    no = people.file_ticket("o-view", "东门的路灯坏了一个多星期，晚上出门很不方便")
    deliver()
    [card] = fake.sent("wecom", "pm01")
    shown = describe(card["json"])
    assert shown.startswith(f"新工单 {no}") and f"[接单: /card accept:{no}]" in shown
    assert describe({"touser": "o", "msgtype": "text", "text": {"content": "你好"}}) == "你好"
    assert describe({"touser": "o", "template_id": "T", "data": {"first": {"value": "有进展"},
                                                                   "remark": {"value": "请查看"}}}) == "有进展 / 请查看"


def test_an_unknown_card_button_gets_the_command_list(people):
    from bot import texts

    member = people.member("pm01")
    assert member.event("template_card_event", "explode:20261120-0001", TaskId="t") == texts.W_UNKNOWN_COMMAND
    assert member.event("template_card_event", "accept", TaskId="t") == texts.W_UNKNOWN_COMMAND


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_changing_the_resident_id_shows_that_residents_ticket_and_chat(console):
    from playwright.sync_api import expect, sync_playwright

    base, app = console
    people = People(app, app.extensions["bot"].clock)
    no = people.file_ticket("o-first", "东门的路灯坏了一个多星期，晚上出门很不方便")
    timeout = 15000
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
        page = browser.new_page()
        page.goto(f"{base}/dev/")
        page.fill("#resident-id", "o-second")
        page.fill("#resident-form input", "查询")
        page.press("#resident-form input", "Enter")
        expect(page.locator("#resident-chat")).to_contain_text("您还没有留言", timeout=timeout)
        expect(page.locator("#ticket-body")).not_to_contain_text(no, timeout=timeout)
        page.fill("#resident-id", "o-first")
        expect(page.locator("#ticket-body")).to_contain_text(no, timeout=timeout)
        expect(page.locator("#resident-chat")).not_to_contain_text("您还没有留言", timeout=timeout)
        browser.close()
