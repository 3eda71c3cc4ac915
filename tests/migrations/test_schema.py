"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import models.schema  # noqa: F401  (every table on the metadata)
from migrations.runner import current_revision, head_revision, upgrade


def test_migrated_database_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_upgrade_is_idempotent(engine):
    upgrade(engine)
    assert current_revision(engine) == head_revision()


def test_head_revision_constant_is_the_newest_script():
    from migrations.runner import scripts_head

    assert head_revision() == scripts_head()


def test_unmigrated_database_has_no_revision(tmp_path):
    from models.db import make_engine

    assert current_revision(make_engine(f"sqlite:///{tmp_path}/empty.db")) is None


def test_items_imported_as_under_way_before_0014_are_acknowledged_by_it(tmp_path):
    """0014: an item imported as 办理中 and not changed since gets its lead unit's 签收 (no person); one
    whose lead unit may have changed since (an `updated` event), or imported as 已交办, does not."""
    from alembic import command
    from sqlmodel import Session, select

    from migrations.runner import alembic_config
    from models.db import make_engine
    from models.tables import ItemAcknowledgement, ItemEvent, Status
    from tests.factories import make_item

    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0013_schedule_owner")
    with Session(engine) as session:
        kept, changed, fresh = (make_item(session, status=status) for status in
                                (Status.IN_PROGRESS, Status.IN_PROGRESS, Status.ASSIGNED))
        for item in (kept, changed, fresh):
            session.add(ItemEvent(item_id=item.id, kind="imported", at=item.created_at, actor_label="台账导入",
                                  to_status=item.status, payload={}))
        session.add(ItemEvent(item_id=changed.id, kind="updated", at=changed.created_at, actor_label="台账导入",
                              payload={}))
        session.commit()
        ids = kept.id, kept.lead_unit_id, kept.created_at
    upgrade(engine)
    with Session(engine) as session:
        rows = session.exec(select(ItemAcknowledgement)).all()
        assert [(r.item_id, r.unit_id, r.person_id, r.at) for r in rows] == [(ids[0], ids[1], None, ids[2])]


def test_periods_made_before_the_period_sweep_are_swept_from_their_first_threshold_after_0015(tmp_path):
    """0015: a period not reported, of an open item, never scheduled (next_action_at NULL) is due to
    the next sweep from an instant before any threshold; one reported, of an item signed off, or
    already taken by the sweep through its last threshold (a period event names its due day) is not."""
    from datetime import UTC, date, datetime

    from alembic import command
    from sqlmodel import Session, col, select

    from migrations.runner import alembic_config
    from models.db import make_engine
    from models.tables import ItemEvent, ItemPeriod, Status
    from tests.factories import make_item

    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0014_imported_acknowledgement")
    q3, q4 = (date(2024, 7, 1), date(2024, 9, 30)), (date(2024, 10, 1), date(2024, 12, 31))
    with Session(engine) as session:
        open_, done = (make_item(session, status=status, frequency="quarterly", deadline=date(2024, 12, 31))
                       for status in (Status.IN_PROGRESS, Status.SIGNED_OFF))
        for item in (open_, done):
            for starts, ends in (q3, q4):
                session.add(ItemPeriod(item_id=item.id, starts=starts, ends=ends, due=ends, level=0))
        reported = make_item(session, status=Status.IN_PROGRESS, frequency="quarterly", deadline=date(2024, 12, 31))
        session.add(ItemPeriod(item_id=reported.id, starts=q3[0], ends=q3[1], due=q3[1], level=0,
                               fulfilled_at=datetime(2024, 9, 20, tzinfo=UTC)))
        # open_'s Q3 was swept through its last threshold already: flagged missing, nothing after that.
        session.add(ItemEvent(item_id=open_.id, kind="period_missed", at=datetime(2024, 10, 8, tzinfo=UTC),
                              actor_label="duban sweep", payload={"period": f"{q3[0]} – {q3[1]}",
                                                                  "period_due": q3[1].isoformat()}))
        session.commit()
        ids = open_.id, done.id, reported.id
    upgrade(engine)
    with Session(engine) as session:
        rows = session.exec(select(ItemPeriod).order_by(col(ItemPeriod.item_id), col(ItemPeriod.starts))).all()
        due = [(r.item_id, r.starts) for r in rows if r.next_action_at is not None]
        assert due == [(ids[0], q4[0])]
        assert rows[[(r.item_id, r.starts) for r in rows].index(due[0])].next_action_at == datetime(1970, 1, 1, tzinfo=UTC)


def test_outbox_bodies_move_to_their_own_table_in_0017_and_back_on_downgrade(tmp_path):
    """0017: every outbox message's rendered mail moves from outbox_message.raw to outbox_body, byte
    for byte; a downgrade puts it back."""
    from alembic import command
    from sqlalchemy import text

    from migrations.runner import alembic_config
    from models.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    cfg = alembic_config()
    raws = {1: "Subject: =?utf-8?b?5Lqk5Yqe?=\r\n\r\n.dot\r\n" + "x" * 9000, 2: "Subject: b\r\n\r\nb\r\n"}
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0016_scoring_index")
        for outbox_id, raw in raws.items():
            connection.execute(text(
                "INSERT INTO outbox_message (id, key, kind, locale, recipients, refused_recipients, item_ids,"
                " notification_ids, subject, message_id, raw, status, attempts, next_attempt_at, last_error,"
                " created_at) VALUES (:id, :key, 'reminder', 'zh-CN', '[]', '{}', '[]', '[]', '', :mid, :raw,"
                " 'sent', 1, '2024-06-03 01:00:00', '', '2024-06-03 01:00:00')"),
                {"id": outbox_id, "key": f"k{outbox_id}", "mid": f"<{outbox_id}@x>", "raw": raw})
    upgrade(engine)
    with engine.connect() as connection:
        assert dict(connection.execute(text("SELECT outbox_id, raw FROM outbox_body")).all()) == raws  # type: ignore[arg-type]
        columns = [row[1] for row in connection.execute(text("PRAGMA table_info(outbox_message)"))]
    assert "raw" not in columns and "status" in columns
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0016_scoring_index")
    with engine.connect() as connection:
        assert dict(connection.execute(text("SELECT id, raw FROM outbox_message")).all()) == raws  # type: ignore[arg-type]


def test_0018_drops_the_single_column_item_index_of_item_event_and_a_downgrade_restores_it(engine):
    """ix_item_event_item_at (item_id, at, id) serves the lookups by item; 0018 drops ix_item_event_item_id."""
    from alembic import command
    from sqlalchemy import inspect, text

    from migrations.runner import alembic_config

    def indexes() -> set[str]:
        return {index["name"] for index in inspect(engine).get_indexes("item_event")}

    assert "ix_item_event_item_id" not in indexes() and "ix_item_event_item_at" in indexes()
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            plan = " ".join(str(row[-1]) for row in connection.execute(text(
                "EXPLAIN QUERY PLAN SELECT * FROM item_event WHERE item_id = 1 AND kind = 'urged' ORDER BY at DESC, id DESC")))
        assert "ix_item_event_item_at" in plan and "TEMP B-TREE" not in plan, plan
    cfg = alembic_config()
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, "0017_outbox_body")
        assert {"ix_item_event_item_id", "ix_item_event_item_at"} <= indexes()
        assert current_revision(engine) == "0017_outbox_body"
    finally:
        upgrade(engine)
    assert "ix_item_event_item_id" not in indexes() and current_revision(engine) == head_revision()
