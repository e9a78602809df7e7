"""Exports as CSV (UTF-8 with BOM, so Excel reads the Chinese) or XLSX (openpyxl); an unmasked
export is an audit event in the chain."""
from __future__ import annotations

import csv
import io
from datetime import datetime

from flask import Response

from ..audit import admin_change

TYPES = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def to_csv(header, rows) -> bytes:
    """The rows as CSV bytes."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(header, rows, title: str) -> bytes:
    """The rows as one XLSX sheet (written in openpyxl's streaming mode)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def respond(name: str, fmt: str, header, rows) -> Response:
    """A download of the rows in the chosen format."""
    data = to_csv(header, rows) if fmt == "csv" else to_xlsx(header, rows, name.split("-")[0])
    return Response(data, content_type=TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"',
                             "Cache-Control": "no-store"})


def audit_unmasked(session, viewer, what: str, now: datetime, **data) -> None:
    """Records that personal data left the system unmasked, and who took it."""
    actor = f"member:{viewer.userid}" if viewer.userid else "admin:dashboard-pii"
    admin_change(session, actor, "export_unmasked", now, export=what, **data)
