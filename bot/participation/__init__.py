"""Participation beyond tickets (#15): members' offline work (工作日志) and the monthly minimum,
tickets entered for residents without WeChat (代录) and their later binding, publication of
results (公示 with the reporter's consent, 金点子, the case library) and the 红色议事厅 cycle
(topics, Friday candidates, the meeting and its notice, registrations, resolution, follow-ups).
Members and secretaries use it through WeCom commands (`commands.run_member`), residents through
a few words in the Official Account (`commands.run_resident`); the public page and
/api/v1/cases live in `web`; scheduled sends are in `jobs`, each once per scope and period.
"""
