"""The ledger import (台账导入): read .xlsx/.csv ledgers, check every row, apply all or nothing."""

from models.ledger.apply import import_ledger, load_snapshot
from models.ledger.dates import DeadlineError, parse_deadline
from models.ledger.parse import read_files, split_list
from models.ledger.plan import ImportSummary, LedgerError
from models.ledger.problems import Problem
from models.ledger.validate import build_plan

__all__ = [
    "DeadlineError",
    "ImportSummary",
    "LedgerError",
    "Problem",
    "build_plan",
    "import_ledger",
    "load_snapshot",
    "parse_deadline",
    "read_files",
    "split_list",
]
