"""The item states, roles, the unit filter's roles, the sweep's actor label and how a person is
named: plain enums, constants and a function without the ORM, so the read paths that load no tables
(the CLI's `report`, models.read.day, web.i18n) import no SQLAlchemy. models.tables defines its
columns with these and re-exports them."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    OFFICER = "officer"
    LEADER = "leader"


class Status(StrEnum):
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    SIGNED_OFF = "signed_off"
    CANCELLED = "cancelled"


class UnitRole(StrEnum):
    """Which of a unit's items a unit filter means (models.read.filters)."""

    ANY = "any"  # as lead unit or as co-unit
    LEAD = "lead"
    CO = "co"


SWEEP_ACTOR = "duban sweep"  # the actor_label of the sweep's own events (models/sweep.py, period_sweep, acknowledge)


def shown_name(name: str, email: str) -> str:
    """A person as pages and mail name them: their name; someone without one by their address. The
    name column is never empty: the ledger import names a new 督办人 by the part before the @ and
    `duban user add` / the admin page without a name store the address, and neither is a name (the
    part before the @ reads like one, "duban-sup2", yet nobody can tell who it is or write to it)."""
    name = name.strip()
    if not name or name.lower() in (email.lower(), email.rpartition("@")[0].lower()):
        return email
    return name
