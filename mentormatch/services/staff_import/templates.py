"""The downloadable template (CSV and XLSX): documented headers, one column pair per
competency of the catalogue, one example row."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..catalogue import by_code
from .headers import TEMPLATE_HEADERS


def _example_row() -> list[Any]:
    return [
        "198503122010011001", "Siti Rahmawati", "siti.rahmawati@example.go.id", "PNS", "III/c",
        "Analis Kebijakan", "Ahli Muda", "Dinas Kominfo", "Padang (Pauh)", "Asia/Jakarta", "",
        "", "", "online", "Sen 09:00-12:00; Kam 13:00-15:00", "2026-12-01..2026-12-05",
    ]


def _template_headers() -> list[str]:
    headers = list(TEMPLATE_HEADERS)
    for code in by_code():
        headers += [code, f"{code} Target"]
    return headers


def _template_example() -> list[Any]:
    row = _example_row()
    for i, _code in enumerate(by_code()):
        row += [2 + i % 2, 3 + i % 2]
    return row


def template_csv() -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(_template_headers())
    writer.writerow(_template_example())
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Pegawai"
    headers = _template_headers()
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.append(_template_example())
    ws["A2"].number_format = "@"  # NIP as text
    for column in ("A", "K"):
        for cell in ws[column]:
            cell.number_format = "@"
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
