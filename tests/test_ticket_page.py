"""The member's ticket page (#12), opened from the card's signed link in headless Chromium: photos,
the map link, the full address and the history for the assigned member; 403 for another member,
a forged link and an expired one. A screenshot is written to test-output/ticket_page.png."""
from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from werkzeug.serving import make_server

from bot import texts
from bot.aftercare import fetch_photos
from bot.lifecycle.page import page_url, signature
from bot.outbox import OutboxWorker
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ADDRESS = "幸福里社区3号楼2单元501室"


@pytest.fixture
def served(settings, people_factory, fake):
    """The app on a real port (the card links to it), with a ticket that has two photos and a location."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    settings["ticket_page"] = {"base_url": base, "ttl_days": 7}
    app, people = people_factory(settings)
    bot = app.extensions["bot"]
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    alice = people.resident("o-page")
    alice.subscribes("grid-g1")
    alice.says("留言")
    alice.says("楼道里的声控灯坏了，晚上上楼很危险，电话13812345678")
    alice.sends_photo("mp-photo-1")
    alice.sends_photo("mp-photo-2")
    alice.says("完成")
    alice.shares_location(30.2741, 120.1551, ADDRESS)
    no = re.search(r"\d{8}-\d{4}", alice.says("确认")).group(0)
    assert fetch_photos(bot) == 2
    OutboxWorker(bot).run_once()
    yield base, app, people, no
    server.shutdown()


def card_link(fake, userid: str) -> str:
    card = [c for c in fake.sent("wecom", userid) if c["json"]["msgtype"] == "template_card"][-1]
    body = card["json"]["template_card"]
    assert body["horizontal_content_list"][0]["url"] == body["card_action"]["url"]
    return body["card_action"]["url"]


def test_the_card_links_to_a_page_only_its_member_may_open(served, fake):
    base, app, people, no = served
    bot = app.extensions["bot"]
    link = card_link(fake, "pm01")
    assert link.startswith(f"{base}t/{no}?")
    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and ADDRESS in page.text and "geo:30.2741,120.1551" in page.text
    assert "13812345678" not in page.text and "138****5678" in page.text
    query = parse_qs(urlsplit(link).query)
    photo = requests.get(f"{base}t/{no}/photo/1", params={k: v[0] for k, v in query.items()}, timeout=10)
    assert photo.status_code == 200 and photo.content.startswith(b"\x89PNG")
    # The secretary finds their own link under 工单 <no>; a member of another branch may not open one.
    own = re.search(r"http\S+", people.member("sec01").says(f"工单 {no}")).group(0)
    assert "u=sec01" in own and ADDRESS in requests.get(own, timeout=10).text
    refused = requests.get(page_url(bot.cfg, no, "pm03", bot.clock.now()), timeout=10)
    assert refused.status_code == 403 and refused.text == texts.PAGE_FORBIDDEN
    # A link made for pm01 and edited to name someone else, or to live longer, is forged.
    forged = {**{k: v[0] for k, v in query.items()}, "u": "sec01"}
    assert requests.get(f"{base}t/{no}", params=forged, timeout=10).status_code == 403
    longer = {**{k: v[0] for k, v in query.items()}, "e": str(int(query["e"][0]) + 86400)}
    assert requests.get(f"{base}t/{no}", params=longer, timeout=10).status_code == 403
    assert requests.get(f"{base}t/{no}/photo/1", timeout=10).status_code == 403
    assert requests.get(f"{base}t/{no}", params={"u": "pm01", "e": "x", "s": "y"}, timeout=10).status_code == 403
    # A correctly signed link past its expiry is refused.
    old = int(bot.clock.now().timestamp()) - 1
    expired = {"u": "pm01", "e": str(old), "s": signature(bot.cfg, no, "pm01", old)}
    assert requests.get(f"{base}t/{no}", params=expired, timeout=10).status_code == 403


def test_the_backup_sees_the_place_masked_until_he_holds_the_ticket(served, fake):
    base, app, people, no = served
    bot = app.extensions["bot"]
    link = page_url(bot.cfg, no, "pm02", bot.clock.now())
    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and ADDRESS not in page.text and "幸福里社区*号楼*单元*室" in page.text
    people.member("pm02").says(f"接单 {no}")
    assert ADDRESS in requests.get(link, timeout=10).text


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_the_page_in_the_browser(served, fake):
    from playwright.sync_api import expect, sync_playwright

    base, app, people, no = served
    bot = app.extensions["bot"]
    people.member("pm01").says(f"接单 {no}")
    people.member("pm01").says(f"回复 {no} 今晚去看")
    link = card_link(fake, "pm01")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 390, "height": 844}, user_agent="Mozilla/5.0 wxwork/4.1")
        page.goto(link)
        expect(page.locator("h1")).to_contain_text(no)
        expect(page.locator("#place")).to_contain_text(ADDRESS)
        photos = page.locator("#photos img")
        expect(photos).to_have_count(2)
        for i in range(2):
            expect(photos.nth(i)).to_be_visible()
            assert photos.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
        assert page.locator("#map-geo").get_attribute("href") == "geo:30.2741,120.1551?q=30.2741,120.1551"
        assert "position=120.1551,30.2741" in page.locator("#map-amap").get_attribute("href")
        history = page.locator("#history")
        for words in ("居民提交（居民#", "分派", "接单（张三）", "答复：今晚去看（张三）"):
            expect(history).to_contain_text(words)
        out = ROOT / "test-output"
        out.mkdir(exist_ok=True)
        page.screenshot(path=str(out / "ticket_page.png"), full_page=True)
        other = page.goto(page_url(bot.cfg, no, "pm03", bot.clock.now()))
        assert other.status == 403
        expect(page.locator("body")).to_contain_text(texts.PAGE_FORBIDDEN)
        bot.clock.advance(days=8)
        assert page.goto(link).status == 403
        browser.close()
    assert (out / "ticket_page.png").stat().st_size > 5_000
