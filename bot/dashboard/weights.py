"""Appraisal weights (考核权重): the configured 30/40/30 and, with `appraisal.dynamic`, weights
that follow the last periods: an indicator whose average stayed below its target gains weight,
one above loses it, each by at most `max_shift`, and the weights are normalised to sum to 1.
`in_force` is the one place that says which weights a month's appraisal uses: the dashboard's
党员 page and export, `bot.appraisal.appraise()` and the API all ask it.
"""
from __future__ import annotations

from .. import texts

PARTS = ("participation", "quality", "satisfaction")
FLOOR = 0.05        # no indicator is ever weighed to nothing


def base_weights(cfg: dict) -> dict[str, float]:
    """The configured static weights, normalised."""
    raw = {k: float(cfg["appraisal"][k]) for k in PARTS}
    total = sum(raw.values()) or 1.0
    return {k: v / total for k, v in raw.items()}


def dynamic_weights(cfg: dict, history: dict[str, list[float | None]]) -> dict:
    """Weights adjusted from each indicator's recent averages (oldest first), each with its reason."""
    opts = cfg["appraisal"]
    base = base_weights(cfg)
    max_shift = float(opts["max_shift"])
    rows, raw = {}, {}
    for key in PARTS:
        values = [v for v in history.get(key, []) if v is not None]
        target = float(opts["targets"][key])
        if not values:
            shift, average, reason = 0.0, None, texts.DB_WEIGHT_NO_DATA
        else:
            average = round(sum(values) / len(values), 1)
            shift = max(-max_shift, min(max_shift, (target - average) / 100.0))
            trend = values[-1] - values[0] if len(values) > 1 else 0.0
            reason = (texts.DB_WEIGHT_BELOW if average < target else
                      texts.DB_WEIGHT_ABOVE if average > target else texts.DB_WEIGHT_AT).format(
                n=len(values), average=average, target=f"{target:g}",
                trend=texts.DB_TREND_UP if trend > 0 else texts.DB_TREND_DOWN if trend < 0 else texts.DB_TREND_FLAT)
        raw[key] = max(FLOOR, base[key] + shift)
        rows[key] = {"base": round(base[key], 3), "shift": round(shift, 3), "average": average, "target": target,
                     "reason": reason}
    total = sum(raw.values())
    for key in PARTS:
        rows[key]["weight"] = round(raw[key] / total, 3)
    return rows


def weights_in_force(cfg: dict, history: dict[str, list[float | None]] | None) -> dict[str, float]:
    """The weights the appraisal uses now: dynamic when switched on and history is given, else static."""
    if cfg["appraisal"].get("dynamic") and history is not None:
        return {k: v["weight"] for k, v in dynamic_weights(cfg, history).items()}
    return base_weights(cfg)


def _previous_month(month: str, back: int = 1) -> str:
    year, number = (int(x) for x in month.split("-"))
    index = year * 12 + number - 1 - back
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def history(bot, session, branch: str | None, month: str) -> dict[str, list[float | None]]:
    """Each appraisal part's average over a branch's members (None: every branch) in each of the
    configured number of months before `month`, oldest first."""
    from .. import points
    from ..appraisal import working_days
    from . import queries

    out: dict = {k: [] for k in PARTS}
    for back in range(int(bot.cfg["appraisal"]["periods"]), 0, -1):
        start, end = points.month_bounds(_previous_month(month, back), bot.tz)
        if start >= bot.clock.now():
            continue
        days = working_days(bot, start, min(end, bot.clock.now()))
        averages = queries.part_averages(queries.member_table(session, branch, start, end, days, base_weights(bot.cfg)))
        for key in PARTS:
            out[key].append(averages[key])
    return out


def in_force(bot, session, branch: str | None, month: str) -> dict[str, float]:
    """The weights a month's appraisal of a branch uses (dynamic ones from that branch's history)."""
    if not bot.cfg["appraisal"].get("dynamic"):
        return base_weights(bot.cfg)
    return weights_in_force(bot.cfg, history(bot, session, branch, month))


def total(parts: dict, weights: dict[str, float]) -> float | None:
    """A member's appraisal total: the weighted mean of the parts they have a figure for."""
    weighed = {k: parts[k] for k in PARTS if parts.get(k) is not None}
    whole = sum(weights[k] for k in weighed)
    return round(sum(v * weights[k] for k, v in weighed.items()) / whole, 1) if weighed and whole else None
