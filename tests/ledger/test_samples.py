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


def test_the_2023_plan_follows_the_seeds_own_assignments():
    # The seed (the office's own 2023 plan) gives 西部大开发 and 挂职干部联络 to 市苏区办 itself.
    samples = _make_samples()
    lead = {number: lead for number, _, lead, *_ in samples.PLAN_2023}
    assert lead["12"] == lead["13"] == "SQB"
    rows = {row[1]: row for row in samples.ledger_rows() if row[0] == "2023年工作计划"}
    assert rows["12"][4] == rows["13"][4] == "市苏区办"
