"""Demand forecast (需求预测): next week's tickets per category from the weekly counts of the past.

A small linear model (ridge regression on standardised features, as scikit-learn's, in closed
form with numpy) learns one category's weekly count from calendar features of the week — working
days and public holidays
(chinese-calendar, through the bot's work calendar), the month as a point on a circle, a trend —
and the two weeks before. Its error is measured honestly: for each of the last 8 weeks a model
trained only on the weeks before it predicts that week, and MAPE is the mean of
|actual − predicted| / actual over those weeks. Below 8 weeks of history there is no forecast.
"""
from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np  # at import, so the first forecast of a week does not wait for it

MIN_WEEKS = 8          # below this: "not enough history yet"
BACKTEST_WEEKS = 8
MIN_TRAIN = 4          # weeks a backtest model is trained on at least
LAGS = 2


def week_features(monday: date, is_workday) -> list[float]:
    """Working days, public-holiday weekdays and the month (on a circle) of the week from `monday`."""
    days = [monday + timedelta(days=i) for i in range(7)]
    workdays = sum(bool(is_workday(d)) for d in days)
    holidays = sum(1 for d in days if d.weekday() < 5 and not is_workday(d))
    middle = monday + timedelta(days=3)
    angle = 2 * math.pi * (middle.month - 1) / 12
    return [float(workdays), float(holidays), math.sin(angle), math.cos(angle)]


def _rows(series: list[int], calendar: list[list[float]], upto: int) -> tuple[list, list]:
    """Feature rows and targets for the weeks LAGS .. upto-1."""
    xs, ys = [], []
    for i in range(LAGS, upto):
        xs.append([*calendar[i], float(i), *(float(series[i - k]) for k in range(1, LAGS + 1))])
        ys.append(float(series[i]))
    return xs, ys


def _ridge(xs: list[list[float]], ys: list[float], alpha: float = 1.0):
    """Ridge regression on standardised features with an intercept (as scikit-learn's
    StandardScaler + Ridge(alpha), in closed form with numpy, so a page never waits for the
    scikit-learn import); returns a function of one feature row."""

    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    z_mean, y_mean = z.mean(axis=0), y.mean()
    zc = z - z_mean
    w = np.linalg.solve(zc.T @ zc + alpha * np.eye(z.shape[1]), zc.T @ (y - y_mean))
    intercept = y_mean - z_mean @ w
    return lambda row: float(((np.asarray(row, dtype=float) - mean) / scale) @ w + intercept)


def _fit_predict(series: list[int], calendar: list[list[float]], target: int, ahead: int = 1) -> float:
    """Predicts week `target` from the weeks up to target − ahead (never below zero).

    The model is trained on those weeks only; with ahead > 1 the weeks between are predicted
    first and stand in for the two weeks before (the current week is never complete).
    """
    known = target - ahead + 1                 # weeks 0 .. known-1 are history
    xs, ys = _rows(series, calendar, known)
    if len(set(ys)) <= 1:          # a flat history: the model would only add noise
        return max(0.0, ys[-1] if ys else float(series[known - 1]))
    predict = _ridge(xs, ys)
    values = [float(v) for v in series[:known]]
    for week in range(known, target + 1):
        row = [*calendar[week], float(week), *(values[week - k] for k in range(1, LAGS + 1))]
        values.append(max(0.0, predict(row)))
    return values[target]


def mape(actual: list[float], predicted: list[float]) -> float | None:
    """Mean absolute percentage error in % over the weeks with tickets (None when there are none)."""
    pairs = [(a, p) for a, p in zip(actual, predicted) if a > 0]
    if not pairs:
        return None
    return round(100.0 * sum(abs(a - p) / a for a, p in pairs) / len(pairs), 1)


def forecast(counts: dict[str, list[int]], first_monday: date, is_workday, ahead: int = 1) -> dict:
    """The expected tickets per category of the week `ahead` weeks after the history, each with its
    backtest MAPE (the same horizon) over the last weeks.

    `counts` holds, per category, the tickets of consecutive full weeks starting `first_monday`.
    The dashboard asks for ahead=2: the history ends last Sunday, this week is under way, and
    the forecast is for next week.
    """
    weeks = max((len(v) for v in counts.values()), default=0)
    if weeks < MIN_WEEKS:
        return {"enough": False, "weeks": weeks, "min_weeks": MIN_WEEKS, "rows": []}
    calendar = [week_features(first_monday + timedelta(weeks=i), is_workday) for i in range(weeks + ahead)]
    test_weeks = min(BACKTEST_WEEKS, weeks - LAGS - MIN_TRAIN - (ahead - 1))
    rows = []
    total_actual = [0.0] * test_weeks
    total_predicted = [0.0] * test_weeks
    for category in sorted(counts):
        series = list(counts[category])
        actual, predicted = [], []
        for k, upto in enumerate(range(weeks - test_weeks, weeks)):
            guess = _fit_predict(series, calendar, upto, ahead)
            actual.append(float(series[upto]))
            predicted.append(guess)
            total_actual[k] += series[upto]
            total_predicted[k] += guess
        rows.append({"category": category,
                     "next_week": round(_fit_predict(series, calendar, weeks + ahead - 1, ahead), 1),
                     "last_week": series[weeks - 1], "mape": mape(actual, predicted),
                     "backtest": [{"actual": a, "predicted": round(p, 1)} for a, p in zip(actual, predicted)]})
    next_monday = first_monday + timedelta(weeks=weeks + ahead - 1)
    return {"enough": True, "weeks": weeks, "min_weeks": MIN_WEEKS, "backtest_weeks": test_weeks,
            "next_week": next_monday.isoformat(), "rows": rows,
            "total": round(sum(r["next_week"] for r in rows), 1),
            "total_mape": mape(total_actual, total_predicted)}
