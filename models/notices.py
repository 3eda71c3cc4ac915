"""Who is told what: each notice kind's audience (to, cc) and template, and the one fallback rule.

"Why did they get this mail?" has its answer here.

- Lifecycle events, the ledger import's assignments and the recurring items' periods (reminded,
  missed, escalated by the sweep's periods pass): the `NOTICES` table below, a row a kind.
- The sweep's thresholds (reminder, overdue, repeat_reminder, escalated) and the forecast: their
  audiences come from the policy file (config/policy.yaml, per document and category); their
  templates are in `THRESHOLD_TEMPLATES`.

Every notice resolves its addresses through `People.recipients`. When its `to` names nobody, one
fallback applies, the first that names someone: the item's supervisor, the document's default
supervisor, the office's `default_supervisors` (policy file), the admins. A notice that still
reaches no one is queued all the same, marked `unreached`: the admins' weekly digest and `duban
doctor` list those items (`unreached_notices`).

To add a kind (say `urged`): write one row in `NOTICES`, give the lifecycle event that kind, and
add its templates (notifications/templates/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlmodel import Session, col

from config.policy import Audience, Kind, Policy, Recipient, UnitLeadersUp
from models.deadlines import ACTIVE_STATUSES
from models.tables import (
    OPEN_STATUSES,
    Document,
    Item,
    ItemCoUnit,
    Notification,
    Person,
    Role,
    Status,
    Unit,
)

R = Recipient
T = TypeVar("T", bound="HasAudience")


class HasAudience(Protocol):
    @property
    def audience(self) -> Audience: ...


@dataclass(frozen=True)
class Notice:
    audience: Audience
    template: str  # notifications/templates/<template>.{subject.txt,txt,html}
    # The item states in which the notice is still true: a mail built later leaves it out otherwise.
    true_while: frozenset[Status]


def _row(
    to: tuple[Recipient, ...], cc: tuple[Recipient, ...] = (), *, template: str, true_while: Iterable[Status],
) -> Notice:
    return Notice(Audience(to, cc), template, frozenset(true_while))


_SIGNED_OFF, _CANCELLED, _SUBMITTED = {Status.SIGNED_OFF}, {Status.CANCELLED}, {Status.SUBMITTED}


# event kind -> audience -> template. The sweep's kinds are not here: the policy gives their audiences.
NOTICES: dict[str, Notice] = {
    # The ledger import: a new item, or an item given to another lead unit.
    "assigned": _row((R.LEAD_UNIT,), (R.CO_UNITS,), template="assigned", true_while=OPEN_STATUSES),
    # The supervisor decided: the lead unit hears it.
    "returned": _row((R.LEAD_UNIT,), template="returned", true_while=ACTIVE_STATUSES),
    "signed_off": _row((R.LEAD_UNIT,), template="signed_off", true_while=_SIGNED_OFF),
    "cancelled": _row((R.LEAD_UNIT,), template="cancelled", true_while=_CANCELLED),
    "extension_approved": _row((R.LEAD_UNIT,), template="extension_approved", true_while=OPEN_STATUSES),
    "extension_rejected": _row((R.LEAD_UNIT,), template="extension_rejected", true_while=OPEN_STATUSES),
    # The lead unit asks: the item's supervisor decides.
    "submitted": _row((R.SUPERVISOR,), template="submitted", true_while=_SUBMITTED),
    "extension_requested": _row((R.SUPERVISOR,), template="extension_requested", true_while=OPEN_STATUSES),
    # 催办: a supervisor or leader urges the lead unit; a leader's urging copies the unit's leaders.
    "urged": _row((R.LEAD_UNIT,), (R.CO_UNITS,), template="urged", true_while=ACTIVE_STATUSES),
    # Editing on the desk (models/edits.py): the units concerned; a new lead unit also gets "assigned".
    "edited": _row((R.LEAD_UNIT,), (R.CO_UNITS,), template="edited", true_while=OPEN_STATUSES),
    # 批示: a leader's instruction goes to the lead unit and the supervisor.
    "instructed": _row((R.LEAD_UNIT, R.SUPERVISOR), template="instructed", true_while=set(Status)),
    # 留言: the lead unit, the supervisor and earlier commenters (less the commenter; models/edits.py).
    "commented": _row((R.LEAD_UNIT, R.SUPERVISOR), template="commented", true_while=set(Status)),
    "urged_by_leader": _row((R.LEAD_UNIT,), (R.CO_UNITS, R.UNIT_LEADERS), template="urged",
                            true_while=ACTIVE_STATUSES),
    # 频次: the sweep's periods pass (models/period_sweep.py), at the policy's thresholds on each
    # period's due day. The periodic report is the lead unit's; a missed one is escalated to its leaders.
    "period_reminder": _row((R.LEAD_UNIT,), template="period_reminder", true_while=ACTIVE_STATUSES),
    "period_missed": _row((R.LEAD_UNIT,), (R.SUPERVISOR,), template="period_missed", true_while=ACTIVE_STATUSES),
    "period_escalated": _row((R.UNIT_LEADERS,), (R.LEAD_UNIT, R.SUPERVISOR), template="period_escalated",
                             true_while=ACTIVE_STATUSES),
}

# The sweep's thresholds (models/schedule.py): kind -> template; audiences from the policy. They
# are true while the unit still works on the item.
THRESHOLD_TEMPLATES: dict[str, str] = {
    "reminder": "reminder", "overdue": "overdue", "repeat_reminder": "repeat_reminder", "escalated": "escalated",
    # 签收: the lead unit has not acknowledged a new item within the policy's `acknowledge.within`.
    "acknowledge_reminder": "acknowledge_reminder",
}

# When a notice's `to` names nobody: the first of these that names someone becomes its `to`.
FALLBACK: tuple[Recipient, ...] = (R.SUPERVISOR, R.DOCUMENT_SUPERVISOR, R.DEFAULT_SUPERVISORS, R.ADMINS)


def digest_leadership(policy: Policy, leaders: Iterable[str]) -> list[str]:
    """Who gets the leadership's weekly digest: the policy's leadership_emails, else `leaders`
    (the people with the leader role). Escalations to the leadership use the policy's list alone
    and, when it is empty, the fallback."""
    return sorted(set(_clean(policy.leadership_emails) or _clean(leaders)))


def template_for(kind: str) -> str:
    """The template a notice kind is written with (the kind itself when the table has no row)."""
    notice = NOTICES.get(kind)
    return notice.template if notice else THRESHOLD_TEMPLATES.get(kind, kind)


def still_true(kind: str, status: Status | str) -> bool:
    """Is a notice of `kind` still true of an item now in `status` (so a mail built now shows it)?"""
    notice = NOTICES.get(kind)
    if notice is not None:
        return status in notice.true_while
    return status in ACTIVE_STATUSES if kind in THRESHOLD_TEMPLATES else True


class ItemKeys(Protocol):
    """What resolving an item's audience needs (an Item, the sweep's DueRow, an import row)."""

    @property
    def id(self) -> int | None: ...
    @property
    def document_id(self) -> int: ...
    @property
    def lead_unit_id(self) -> int: ...
    @property
    def supervisor_id(self) -> int | None: ...


@dataclass(frozen=True)
class ItemRef:
    id: int
    document_id: int
    lead_unit_id: int
    supervisor_id: int | None


@dataclass(frozen=True)
class Recipients:
    to: list[str]
    cc: list[str]
    fallback: Recipient | None = None  # who `to` fell back to, when the audience named nobody

    @property
    def unreached(self) -> bool:
        return not self.to

    def notes(self) -> dict[str, Any]:
        """What a Notification's payload records about how its addresses were found."""
        if self.unreached:
            return {"unreached": True}
        return {"fallback": self.fallback.value} if self.fallback else {}


@dataclass(frozen=True)
class UnitContacts:
    contact_emails: list[str]
    leader_emails: list[str]
    parent_id: int | None = None


def _clean(emails: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(e.strip().lower() for e in emails if e and e.strip()))


class People:
    """Who is who for a set of items, loaded in bulk: units, co-units, supervisors, documents, admins.

    `policy` gives the office leadership and default supervisors; when None, the configured policy
    file is read the first time either is needed (an action that tells its lead unit reads no file).
    """

    def __init__(self, session: Session, policy: Policy | None = None) -> None:
        self.session, self._policy = session, policy
        self.documents: dict[int, str] = {}
        self.document_supervisors: dict[int, int | None] = {}
        self.units: dict[int, UnitContacts] = {}  # plain values: a commit between batches expires ORM objects
        self.emails: dict[int, str] = {}  # active people by id
        self.co_units: dict[int, list[int]] = {}
        self._admins: list[str] | None = None
        # resolve's and recipients' answers by what they read of a row (its units, supervisor, document):
        # a sweep asks the same few hundred units' questions for thousands of items. Emptied whenever a
        # load adds anything (an answer worked out before it may lack what it added). The lists are
        # shared between the answers: nobody changes a Recipients' lists.
        self._answers: dict[tuple[Any, ...], Any] = {}

    def _office(self, name: str) -> list[str]:
        """The policy's leadership_emails or default_supervisors (none while the policy file is broken:
        an action must not fail on it; `duban doctor` reports it)."""
        if self._policy is None:
            from config.policy import load_policy
            from config.yamlfile import ConfigFileError

            try:
                self._policy = load_policy()
            except ConfigFileError:
                return []
        return _clean(getattr(self._policy, name))

    def load_documents(self, rows: Sequence[ItemKeys]) -> None:
        """Document names (the policy's overrides are keyed by them) and default supervisors."""
        self._fill(self.documents, {r.document_id for r in rows} - self.documents.keys(), lambda missing: (
            (doc_id, name) for doc_id, name, supervisor in self._documents(missing)
        ))

    def _documents(self, ids: list[int]) -> Iterable[tuple[int, str, int | None]]:
        for doc_id, name, supervisor in self.session.execute(
            select(Document.id, Document.short_name, Document.default_supervisor_id).where(col(Document.id).in_(ids))
        ):
            self.document_supervisors[doc_id] = supervisor
            yield doc_id, name, supervisor

    def load(self, rows: Sequence[ItemKeys]) -> None:
        """Everything needed to resolve the audiences of `rows` (only rows someone is told about)."""
        self.load_documents(rows)
        ids = [r.id for r in rows if r.id is not None]
        self.co_units = {}
        for start in range(0, len(ids), 500):
            for item_id, unit_id in self.session.execute(
                select(ItemCoUnit.item_id, ItemCoUnit.unit_id).where(col(ItemCoUnit.item_id).in_(ids[start:start + 500]))
            ):
                self.co_units.setdefault(item_id, []).append(unit_id)
        unit_ids = {r.lead_unit_id for r in rows} | {u for us in self.co_units.values() for u in us}
        while unit_ids:  # the units and every unit above them (上级单位), for escalations up the tree
            self._load_units(unit_ids)
            unit_ids = {p for u in unit_ids if u in self.units and (p := self.units[u].parent_id) is not None}
            unit_ids -= self.units.keys()  # loaded already: a unit tree with a cycle ends here too
        people = {r.supervisor_id for r in rows if r.supervisor_id}
        people |= {s for s in self.document_supervisors.values() if s}
        self._fill(self.emails, people, lambda missing: self.session.execute(
            select(Person.id, Person.email).where(col(Person.id).in_(missing), col(Person.active))
        ))

    def _load_units(self, unit_ids: set[int]) -> None:
        self._fill(self.units, unit_ids, lambda missing: (
            (u.id, UnitContacts(list(u.contact_emails), list(u.leader_emails), u.parent_id))
            for u in self.session.execute(
                select(Unit.id, Unit.contact_emails, Unit.leader_emails, Unit.parent_id).where(col(Unit.id).in_(missing))
            )
        ))

    def _fill(self, cache: dict[int, Any], wanted: set[int], fetch: Callable[[list[int]], Iterable[Any]]) -> None:
        missing = sorted(wanted - cache.keys())
        if missing:
            self._answers.clear()
        for start in range(0, len(missing), 500):
            for key, value in fetch(missing[start:start + 500]):
                cache[key] = value

    def _who(self, row: ItemKeys) -> tuple[Any, ...]:
        """What the audiences read of `row`: the same for two rows, the same addresses."""
        co_units = self.co_units.get(row.id or 0)
        return row.lead_unit_id, row.supervisor_id, row.document_id, tuple(co_units) if co_units else ()

    def admins(self) -> list[str]:
        if self._admins is None:
            self._admins = _clean(self.session.scalars(
                select(Person.email).where(Person.role == Role.ADMIN, col(Person.active)).order_by(Person.email)
            ).all())
        return self._admins

    def above(self, unit_id: int, steps: int) -> UnitContacts | None:
        """The unit `steps` levels up the tree from `unit_id` (needs `load` first); None when the tree
        is not that deep, or when the walk comes back to a unit it passed (a cycle names nobody)."""
        seen, unit = {unit_id}, self.units.get(unit_id)
        for _ in range(steps):
            if unit is None or unit.parent_id is None or unit.parent_id in seen:
                return None
            seen.add(unit.parent_id)
            unit = self.units.get(unit.parent_id)
        return unit

    def resolve(self, kind: Kind, row: ItemKeys, who: tuple[Any, ...] | None = None) -> list[str]:
        """The addresses one recipient kind names for `row` (needs `load([row])` first); `who` is `_who(row)`."""
        if self._policy is None:  # the policy file is read (or found broken) on the first office kind
            return self._resolve(kind, row)
        key = (kind, who or self._who(row))
        found: list[str] | None = self._answers.get(key)
        if found is None:
            found = self._answers[key] = self._resolve(kind, row)
        return found

    def _resolve(self, kind: Kind, row: ItemKeys) -> list[str]:
        lead = self.units.get(row.lead_unit_id)
        if kind is R.LEAD_UNIT:
            return _clean(lead.contact_emails) if lead else []
        if kind is R.CO_UNITS:
            units = [self.units[u] for u in self.co_units.get(row.id or 0, []) if u in self.units]
            return _clean(e for unit in units for e in unit.contact_emails)
        if kind is R.UNIT_LEADERS:
            return _clean(lead.leader_emails) if lead else []
        if kind is R.PARENT_UNIT_LEADERS or isinstance(kind, UnitLeadersUp):
            above = self.above(row.lead_unit_id, kind.steps if isinstance(kind, UnitLeadersUp) else 1)
            return _clean(above.leader_emails) if above else []
        if kind is R.LEADERSHIP:
            return self._office("leadership_emails")
        if kind is R.SUPERVISOR:
            return [self.emails[row.supervisor_id].lower()] if row.supervisor_id in self.emails else []
        if kind is R.DOCUMENT_SUPERVISOR:
            supervisor = self.document_supervisors.get(row.document_id)
            return [self.emails[supervisor].lower()] if supervisor in self.emails else []
        if kind is R.DEFAULT_SUPERVISORS:
            return self._office("default_supervisors")
        return self.admins()

    def recipients(self, audience: Audience, row: ItemKeys, who: tuple[Any, ...] | None = None) -> Recipients:
        """(to, cc) for `audience`; when `to` names nobody, the fallback's first match becomes `to`."""
        if self._policy is None:
            return self._recipients(audience, row, None)
        who = who or self._who(row)
        found: Recipients | None = self._answers.get((audience, who))
        if found is None:
            found = self._answers[audience, who] = self._recipients(audience, row, who)
        return found

    def _recipients(self, audience: Audience, row: ItemKeys, who: tuple[Any, ...] | None) -> Recipients:
        def emails(kinds: tuple[Kind, ...]) -> list[str]:
            return _clean(e for kind in kinds for e in self.resolve(kind, row, who))

        to, fallback = emails(audience.to), None
        if not to:
            for kind in FALLBACK:
                to = self.resolve(kind, row, who)
                if to:
                    fallback = kind
                    break
        cc = [e for e in emails(audience.cc) if e not in to]
        return Recipients(to, cc, fallback)

    def for_event(self, kind: str, row: ItemKeys) -> Recipients | None:
        """The recipients of a table kind's notice about `row`; None for a kind nobody is told about."""
        notice = NOTICES.get(kind)
        if notice is None:
            return None
        self.load([row])
        return self.recipients(notice.audience, row)

    def catch_up(self, most_severe: T, crossed: Sequence[T], row: ItemKeys) -> list[tuple[T, Recipients]]:
        """The notices of one sweep of one item: the most severe threshold crossed, with the fallback;
        then, latest first, each other threshold for whoever it names that was not told yet.

        So a catch-up (a sweep after downtime, a ledger imported late) tells each address once, the
        most severe thing addressed to it: the lead unit still hears "overdue" when the item jumped
        straight to an escalation addressed to its leaders.
        """
        who = self._who(row)
        first = self.recipients(most_severe.audience, row, who)
        notices, told, copied = [(most_severe, first)], set(first.to), set(first.to + first.cc)
        # A repeat reminder repeats the overdue notice: crossed together, the overdue notice is sent.
        overdue = any(getattr(t, "kind", "") == "overdue" for t in crossed)
        for threshold in reversed(crossed):
            if threshold is most_severe or (overdue and getattr(threshold, "kind", "") == "repeat_reminder"):
                continue
            to = [e for kind in threshold.audience.to for e in self.resolve(kind, row, who) if e not in told]
            to = list(dict.fromkeys(to))
            if to:
                cc = [e for kind in threshold.audience.cc for e in self.resolve(kind, row, who)
                      if e not in copied and e not in to]
                notices.append((threshold, Recipients(to, list(dict.fromkeys(cc)))))
                told |= set(to)
                copied |= {*to, *cc}
        return notices


@dataclass(frozen=True)
class UnreachedNotice:
    """A notice that reached nobody, not even through the fallback."""

    kind: str
    level: int | None  # an escalation's level (None for other kinds)
    at: datetime  # when it was queued (UTC)
    item_id: int
    ref: str  # DOCUMENT/NUMBER
    title: str


def unreached_notices(session: Session, since: datetime | None = None) -> list[UnreachedNotice]:
    """Every notice that reached nobody (queued since `since`), newest first: `duban doctor` and the
    admins' digest list them."""
    payload = col(Notification.payload)
    query = (select(Notification.kind, payload["level"].as_integer(), Notification.created_at, Item.id, Document.short_name,
                    Item.number, Item.title)
             .join(Item, col(Item.id) == Notification.item_id).join(Document, col(Document.id) == Item.document_id)
             .where(col(Notification.unreached)).order_by(col(Notification.id).desc()))
    if since is not None:
        query = query.where(col(Notification.created_at) >= since)
    return [UnreachedNotice(kind, level if kind == "escalated" else None, at, item_id, f"{document}/{number}", title)
            for kind, level, at, item_id, document, number, title in session.execute(query).all()]


def set_document_supervisor(session: Session, document_name: str, email: str | None) -> Document:
    """Make the supervisor (or admin) `email` the document's default supervisor; None clears it.

    Its items without a supervisor of their own fall back to that person (FALLBACK). The caller commits.
    """
    from models.errors import InvalidInput, NotFound

    document = session.scalars(select(Document).where(Document.short_name == document_name.strip())).first()
    if document is None:
        raise NotFound(f"no document named {document_name!r}", code="document.not_found",
                       params={"document": document_name})
    person = None
    if email is not None:
        person = session.scalars(select(Person).where(Person.email == email.strip().lower())).first()
        if person is None:
            raise NotFound(f"no person with email {email!r}", code="person.not_found", params={"email": email})
        if person.role not in (Role.SUPERVISOR, Role.ADMIN) or not person.active:
            raise InvalidInput(
                f"{person.email} is {'an inactive ' if not person.active else ''}{person.role}; a document's default"
                " supervisor must be an active supervisor or admin",
                code="document.supervisor_role", params={"email": person.email, "role": person.role},
            )
    document.default_supervisor_id = person.id if person else None
    session.add(document)
    return document
