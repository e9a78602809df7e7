"""Participation beyond tickets (#15): members' offline work (工作日志) and the monthly minimum,
tickets entered for residents without WeChat (代录) and their later binding, publication of
results (公示 with the reporter's consent, 金点子, the case library) and the 红色议事厅 cycle
(topics, Friday candidates, the meeting and its notice, registrations, resolution, follow-ups).
Members and secretaries use it through WeCom commands (`commands.run_member`), residents through
a few words in the Official Account (`commands.run_resident`); the public page and
/api/v1/cases live in `web`; scheduled sends are in `jobs`, each once per scope and period.
"""


def figures(session, start, end, branch_id: str | None = None) -> dict:
    """The #15 figures of a period (of a branch) for the digest and the dashboard: work-log entries,
    金点子, new cases, their sum (创新), and 议题解决率 (None when no topic was resolved)."""
    from .council import resolution_rate
    from .publicity import innovation_counts
    from .worklog import log_count
    return {"work_logs": log_count(session, start, end, branch_id),
            **innovation_counts(session, start, end, branch_id),
            "council_resolution_pct": resolution_rate(session, start, end, branch_id)}
