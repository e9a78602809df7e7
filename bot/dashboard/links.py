"""Links from chat into the dashboard: the weekly digest's closing line and the compliance
alert as a WeCom textcard that opens the matching page. Without dashboard.base_url there is no
address a phone could open, so messages stay as they were."""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

from .. import texts
from ..replies import Reply, to_member

# The page that explains each compliance measure.
ALERT_PAGES = {"response_h": "ledger", "satisfaction_pct": "overview", "participation_pct": "members"}


def page_url(bot, page: str, **query) -> str | None:
    """The absolute address of a dashboard page, or None when dashboard.base_url is not set."""
    base = str(bot.cfg["dashboard"].get("base_url") or "").rstrip("/")
    if not base:
        return None
    args = urlencode({k: v for k, v in query.items() if v})
    return f"{base}/dashboard/{page}" + (f"?{args}" if args else "")


def _days(bot, start: datetime, end: datetime) -> dict:
    return {"from": start.astimezone(bot.tz).date().isoformat(),
            "to": (end - timedelta(seconds=1)).astimezone(bot.tz).date().isoformat()}


def digest_link(bot, branch_id: str, start: datetime, end: datetime) -> str | None:
    """The digest's closing markdown line: the week's 总览 in the dashboard."""
    url = page_url(bot, "overview", branch=branch_id, **_days(bot, start, end))
    return texts.DB_DIGEST_LINK.format(url=url) if url else None


def alert_reply(bot, secretary: str, branch_id: str, metric: str, level: str, message: str,
                start: datetime, end: datetime) -> Reply:
    """A compliance alert: a textcard opening the matching page, or plain text without base_url."""
    query = {"branch": branch_id}
    if ALERT_PAGES[metric] == "members":
        query["month"] = end.astimezone(bot.tz).strftime("%Y-%m")
    elif ALERT_PAGES[metric] == "overview":
        query.update(_days(bot, start, end))
    url = page_url(bot, ALERT_PAGES[metric], **query)
    if url is None:
        return to_member(secretary, message)
    return Reply("wecom", secretary, "textcard", {
        "title": texts.DB_ALERT_CARD_TITLE.format(level=texts.LEVELS[level]),
        "description": f'<div class="highlight">{message}</div>', "url": url,
        "btntxt": texts.DB_ALERT_CARD_BUTTON})
