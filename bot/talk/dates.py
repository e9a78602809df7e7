"""Plain dates for residents: "明天（11月26日）下午" rather than "11月26日 04:10"."""
from __future__ import annotations

from datetime import datetime, timedelta

from bot import texts
from bot.workcalendar import parse_hhmm


def _part(hour: int) -> str:
    name = texts.DAY_PARTS[0][0]
    for word, start in texts.DAY_PARTS:
        if hour >= start:
            name = word
    return name


def morning_after_quiet(bot, moment: datetime) -> datetime:
    """A time inside quiet hours moves to the next working morning (the end of quiet hours)."""
    quiet = bot.cfg["sla"].get("quiet_hours")
    if not quiet or not bot.calendar.in_quiet_hours(moment, quiet):
        return moment
    local = moment.astimezone(bot.tz)
    end = parse_hhmm(quiet[1])
    morning = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if morning <= local:
        morning += timedelta(days=1)
    for _ in range(30):
        if bot.calendar.is_workday(morning.date()):
            break
        morning += timedelta(days=1)
    return morning


def plain(ctx, moment: datetime | None, urgent: bool = False) -> str:
    """A promise as an elderly resident reads it: the day in words and the part of the day.

    A normal promise due in quiet hours names the next working morning; an urgent one keeps
    its real time (urgent work goes on at night).
    """
    if moment is None:
        return "—"
    bot = ctx.bot
    local = (moment if urgent else morning_after_quiet(bot, moment)).astimezone(bot.tz)
    days = (local.date() - ctx.local(ctx.now).date()).days
    part = _part(local.hour)
    if days in texts.DAY_WORDS:
        return texts.PLAIN_DATE.format(day=texts.DAY_WORDS[days], month=local.month, date=local.day, part=part)
    return texts.PLAIN_DATE_FAR.format(month=local.month, date=local.day,
                                       weekday=texts.WEEKDAY_NAMES[local.weekday()], part=part)
