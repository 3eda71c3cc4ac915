"""Deployment entrypoints (server mode): duban's flows as real Prefect flows. Imports Prefect."""

from flows.assign import assign as _assign
from flows.deliver import deliver as _deliver
from flows.digest import weekly_digest as _weekly_digest
from flows.sweep import sweep as _sweep

assign = _assign.prefect()
deliver = _deliver.prefect()
sweep = _sweep.prefect()
weekly_digest = _weekly_digest.prefect()
