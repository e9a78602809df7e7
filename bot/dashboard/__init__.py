"""The secretary's dashboard (治理效能仪表盘): server-rendered pages under /dashboard for
secretaries (their branch), administrators (every branch, with a filter) and members (their own
figures) — 总览, 督办台账 with 催办, 党员, 民情, 预测 and 考核权重 — with ECharts served by the bot
itself, WeCom OAuth2 or admin-token sign-in, and CSV / XLSX exports masked unless the viewer holds
the PII right. Period figures add up daily summary rows (summary.py, written by the scheduler job
`dashboard_summaries`, today read live) through queries.py; the forecast and the appraisal weights
in force (one source for the pages, appraise() and the API) are in forecast.py and weights.py.
"""
from __future__ import annotations


def blueprint():
    """The dashboard's Flask blueprint."""
    from .views import bp

    return bp
