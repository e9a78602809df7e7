"""Working days and hours: Chinese public holidays and make-up working days (调休).

chinese-calendar knows only the years announced when it was released; a configured list
extends or overrides it, and for a year neither knows, weekends are the only days off
(never an error): the scheduler tells the log and the secretaries once per year.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)


def parse_hhmm(value) -> time:
    """A time of day written as "09:00"; ValueError for anything else (e.g. YAML's 540 for 09:00)."""
    text = str(value)
    if ":" not in text:
        raise ValueError(f"not a time of day: {value!r}")
    hours, minutes = text.split(":", 1)
    return time(int(hours), int(minutes))


def is_hhmm(value) -> bool:
    """Whether a value is a time of day written as "09:00"."""
    try:
        parse_hhmm(value)
        return True
    except ValueError:
        return False


def at(day: date, hhmm: str, tz) -> datetime:
    """That day at that time of day, in the zone."""
    return datetime.combine(day, parse_hhmm(hhmm), tzinfo=tz)


class WorkCalendar:
    """Answers whether a day is worked and adds working hours to a time."""

    def __init__(self, cfg: dict):
        self.tz = ZoneInfo(cfg["timezone"])
        cal = cfg.get("calendar") or {}
        self.holidays = {date.fromisoformat(str(d)) for d in cal.get("holidays") or []}
        self.workdays = {date.fromisoformat(str(d)) for d in cal.get("workdays") or []}
        self.configured_years = {d.year for d in self.holidays | self.workdays}
        hours = cfg["sla"].get("working_hours")
        self.hours = (parse_hhmm(hours[0]), parse_hhmm(hours[1])) if hours else None

    def knows(self, year: int) -> bool:
        """Whether holidays of a year are known (from chinese-calendar or the configured list)."""
        if year in self.configured_years:
            return True
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
            return True
        except NotImplementedError:
            return False

    def is_workday(self, day: date) -> bool:
        """A configured day first, then chinese-calendar, then Monday to Friday."""
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            return day.weekday() < 5

    def is_public_holiday(self, day: date) -> bool:
        """A statutory holiday (not a plain weekend), configured or from chinese-calendar."""
        if day in self.holidays:
            return True
        if day in self.workdays:
            return False
        try:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return False
        return bool(on_holiday and name)

    def add_hours(self, start: datetime, hours: float, urgent: bool = False) -> datetime:
        """The due time `hours` after `start`: wall-clock, or working time when configured.

        Urgent tickets always run on the wall clock.
        """
        if self.hours is None or urgent:
            return start + timedelta(hours=hours)
        left = timedelta(hours=hours)
        local = start.astimezone(self.tz)
        day = local.date()
        for _ in range(3660):  # ten years of days: far more than any window
            if self.is_workday(day):
                opens = datetime.combine(day, self.hours[0], tzinfo=self.tz)
                closes = datetime.combine(day, self.hours[1], tzinfo=self.tz)
                begin = max(opens, local) if day == local.date() else opens
                if begin < closes:
                    if begin + left <= closes:
                        return (begin + left).astimezone(start.tzinfo)
                    left -= closes - begin
            day += timedelta(days=1)
        return start + timedelta(hours=hours)

    def in_quiet_hours(self, moment: datetime, quiet) -> bool:
        """Whether a time falls in the configured quiet hours (e.g. 22:00–07:00)."""
        if not quiet:
            return False
        begin, end = parse_hhmm(quiet[0]), parse_hhmm(quiet[1])
        now = moment.astimezone(self.tz).time()
        return (begin <= now or now < end) if begin > end else (begin <= now < end)
