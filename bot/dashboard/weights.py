"""Appraisal weights (考核权重): the configured 30/40/30 and, with `appraisal.dynamic`, weights
that follow the last periods: an indicator whose average stayed below its target gains weight,
one above loses it, each by at most `max_shift`, and the weights are normalised to sum to 1.
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
