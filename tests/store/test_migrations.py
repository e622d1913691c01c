"""Migrations are the only way tables come to exist, so they must match the code exactly and
must carry old data forward."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, insert, select, text

import watchkeeper.store.tables  # noqa: F401  (all stages' tables on Base.metadata)
from watchkeeper.store import Store
from watchkeeper.store.base import Base
from watchkeeper.store.engine import alembic_config

FOUNDATION = "0001_foundation"


def test_migrations_produce_exactly_the_tables_metadata(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_every_stage_branch_starts_from_foundation(store: Store) -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    for head in script.get_heads():
        chain = [rev.revision for rev in script.iterate_revisions(head, "base")]
        assert chain[-1] == FOUNDATION, f"{head} does not descend from {FOUNDATION}: {chain}"


Snapshot = dict[str, tuple[list[str], set[str]]]


def _snapshot(conn: Any, columns: dict[str, list[str]] | None = None) -> Snapshot:
    """Every row of every table (only `columns` per table when given; alembic_version aside)."""
    meta = MetaData()
    meta.reflect(conn)
    out: Snapshot = {}
    for name, table in meta.tables.items():
        if name == "alembic_version" or (columns is not None and name not in columns):
            continue
        cols = columns[name] if columns is not None else sorted(c.name for c in table.columns)
        result = conn.execute(select(*[table.c[c] for c in cols]))
        rows = {json.dumps(list(row), sort_keys=True, default=str) for row in result}
        out[name] = (cols, rows)
    return out


def test_upgrading_a_foundation_database_with_data_keeps_every_row(db_url: str) -> None:
    old = Store.open(db_url, migrate=False)
    try:
        with old.engine.begin() as conn:
            command.upgrade(alembic_config(conn), FOUNDATION)
        # Written with plain SQL on the reflected tables: the ORM classes describe `heads`.
        at = datetime(2026, 1, 2, 3, 4, 5, 678901)
        meta = MetaData()
        with old.engine.begin() as conn:
            meta.reflect(conn)
            conn.execute(
                insert(meta.tables["models"]),
                [{"name": f"m{i}", "created_at": at} for i in range(3)],
            )
            conn.execute(
                insert(meta.tables["policy_versions"]),
                [
                    {
                        "sha256": "ab" * 32,
                        "text": "models: []\n",
                        "applied_at": at,
                        "actor": "alice",
                        "comment": "first",
                    }
                ],
            )
            conn.execute(
                insert(meta.tables["audit_log"]),
                [
                    {
                        "seq": 1,
                        "at": at,
                        "actor": "alice",
                        "action": "policy.applied",
                        "subject": "policy",
                        "details": {"n": 1, "nested": {"x": [1, 2.5, None]}},
                        "prev_hash": "0" * 64,
                        "hash": "1" * 64,
                    }
                ],
            )
            conn.execute(text("UPDATE audit_head SET seq = 1, hash = :h"), {"h": "1" * 64})
            before = _snapshot(conn)
        assert old.current_revisions() == {FOUNDATION}
    finally:
        old.close()
    assert sum(len(rows) for _, rows in before.values()) == 6  # 3 models, 1+1 audit, 1 policy

    with Store.open(db_url) as new:
        assert new.current_revisions() == new.head_revisions()
        with new.engine.connect() as conn:
            # Later revisions may add columns: compare on the columns the old rows had.
            after = _snapshot(conn, {name: cols for name, (cols, _) in before.items()})
    assert after == before


def test_new_revision_starts_a_branch_and_writes_plain_types(tmp_path: Path) -> None:
    from sqlalchemy import Column, String, Table

    from watchkeeper.store.engine import new_revision
    from watchkeeper.store.types import UtcDateTime

    probe = Table(
        "zz_probe",
        Base.metadata,
        Column("name", String(20), primary_key=True),
        Column("seen_at", UtcDateTime, nullable=False),
    )
    try:
        path = new_revision("probe", stage="zzprobe", rev_id="0099_zzprobe", version_dir=tmp_path)
    finally:
        Base.metadata.remove(probe)
    source = path.read_text()
    assert "down_revision: str | Sequence[str] | None = '0001_foundation'" in source
    assert "branch_labels: str | Sequence[str] | None = ('zzprobe',)" in source
    assert "op.create_table('zz_probe'" in source
    assert "sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False)" in source
    assert "UtcDateTime" not in source
    # Nothing else: the scratch database already had every other stage's tables.
    assert source.count("op.create_table(") == 1
