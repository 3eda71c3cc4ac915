"""Ledger files for tests: write units and ledger tables as .csv or .xlsx."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

UNITS_HEADER = ["单位编码", "单位名称", "上级单位", "联系邮箱", "分管领导邮箱"]
UNITS = [
    ["FGW", "市发改委", "", "fgw@example.gov.cn", "fsz-wang@example.gov.cn"],
    ["CZJ", "市财政局", "", "czj@example.gov.cn、czj2@example.gov.cn", "fsz-wang@example.gov.cn"],
    ["SWJ", "市商务局", "", "swj@example.gov.cn", ""],
]
LEDGER_HEADER = ["文件", "编号", "事项", "类别", "牵头单位", "配合单位", "完成时限", "督办人", "状态"]
LEDGER = [
    ["新时代意见", "1", "支持建设示范区", "规划", "市发改委", "市财政局", "2024年6月底", "sup1@example.gov.cn", ""],
    ["新时代意见", "2", "落实财政支持政策", "财政", "CZJ", "", "2024-09-30", "", "进行中"],
    ["新时代意见", "3", "建设国际陆港", "开放", "市商务局", "市发改委、市财政局", "2024年第二季度", "", "已落实"],
]


def write_csv(path: Path, rows: Sequence[Sequence[Any]], encoding: str = "utf-8") -> Path:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, sheets: dict[str, Sequence[Sequence[Any]]]) -> Path:
    workbook = Workbook()
    first = True
    for name, rows in sheets.items():
        sheet = workbook.active if first else workbook.create_sheet()
        assert sheet is not None
        sheet.title = name
        for row in rows:
            sheet.append(list(row))
        first = False
    workbook.save(path)
    return path


@pytest.fixture
def ledger_files(tmp_path: Path) -> list[Path]:
    """A units CSV and a ledger workbook that import cleanly."""
    return [
        write_csv(tmp_path / "units.csv", [UNITS_HEADER, *UNITS]),
        write_xlsx(tmp_path / "ledger.xlsx", {"台账": [LEDGER_HEADER, *LEDGER]}),
    ]
