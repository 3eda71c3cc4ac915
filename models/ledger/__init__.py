"""The ledger import (台账导入): read .xlsx/.csv ledgers (parse), check every row (validate, plan),
apply all or nothing (apply). Import from the modules: a problem's words (problems) must not load
the whole import."""
