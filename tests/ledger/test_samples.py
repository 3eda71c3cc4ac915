"""The demo's shipped sample files are exactly what scripts/make_samples.py writes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", ROOT / "scripts" / "make_samples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_samples_match_their_generator_byte_for_byte():
    samples = _make_samples()
    assert (ROOT / "cli" / "samples" / "units.csv").read_bytes() == samples.units_csv()
    assert (ROOT / "cli" / "samples" / "ledger.xlsx").read_bytes() == samples.ledger_xlsx()


def test_sample_documents_carry_the_seed_counts():
    samples = _make_samples()
    rows = samples.ledger_rows()
    for document, items, done in [("新时代意见", 103, 53), ("建设方案", 126, 31),
                                   ("2022年工作要点（北上对接事项）", 58, 47), ("援县促市事项", 76, 64)]:
        mine = [row for row in rows if row[0] == document]
        assert (len(mine), sum(row[8] == "已落实" for row in mine)) == (items, done)
    assert len([row for row in rows if row[0] == "2023年工作计划"]) == len(samples.PLAN_2023)
