"""SQLModel tables, the item lifecycle, deadline maths, queries and actions."""

import models.accounts  # noqa: F401  (web accounts: API tokens, web sessions, login attempts)
import models.admin  # noqa: F401  (the log of administrative changes)
import models.attachments  # noqa: F401  (evidence files on progress reports and submissions)
import models.feeds  # noqa: F401  (calendar feed tokens)
import models.outbox  # noqa: F401  (mail: outbox messages, weekly digests queued)
import models.sweep_tables  # noqa: F401  (sweep: run log, scheduler lease)
import models.throttle  # noqa: F401  (login throttle counters)
from models.tables import (
    Document,
    ExtensionRequest,
    ExtensionStatus,
    Item,
    ItemCoUnit,
    ItemEvent,
    Notification,
    Person,
    ProgressReport,
    Role,
    Status,
    Unit,
)

__all__ = [
    "Document",
    "ExtensionRequest",
    "ExtensionStatus",
    "Item",
    "ItemCoUnit",
    "ItemEvent",
    "Notification",
    "Person",
    "ProgressReport",
    "Role",
    "Status",
    "Unit",
]
