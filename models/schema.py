"""Every table on SQLModel.metadata: what the migrations are compared with and the tests empty.

`import models` alone loads no table, so a command imports only the tables it reads; whatever
needs the whole schema imports this module.
"""

import models.accounts  # noqa: F401  (web accounts: API tokens, web sessions, login attempts)
import models.admin  # noqa: F401  (the log of administrative changes)
import models.attachments  # noqa: F401  (evidence files on progress reports and submissions)
import models.feeds  # noqa: F401  (calendar feed tokens)
import models.outbox  # noqa: F401  (mail: outbox messages, weekly digests queued)
import models.sweep_tables  # noqa: F401  (sweep: run log, scheduler lease)
import models.tables  # noqa: F401  (documents, units, people, items and their events)
import models.throttle  # noqa: F401  (login throttle counters)
