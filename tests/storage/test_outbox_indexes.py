"""The outbox's pending-row indexes are partial on both databases, from the models alone."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_mock_engine
from sqlalchemy.schema import CreateIndex
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table)
from storage.outbox import PENDING_INDEXES, OutboxRow


def _create_index_ddl(url: str) -> dict[str, str]:
    statements: list[Any] = []
    engine = create_mock_engine(url, lambda sql, *_, **__: statements.append(sql))
    SQLModel.metadata.create_all(engine, tables=[OutboxRow.__table__], checkfirst=False)  # type: ignore[list-item]  # SQLModel types __table__ as a FromClause
    return {
        statement.element.name: str(statement.compile(dialect=engine.dialect))
        for statement in statements
        if isinstance(statement, CreateIndex)
    }


@pytest.mark.parametrize("url", ["sqlite://", "postgresql://"])
def test_create_all_makes_the_pending_indexes_partial(url: str) -> None:
    """``create_all`` gives both indexes ``WHERE status = 'pending'`` on SQLite and PostgreSQL."""
    ddl = _create_index_ddl(url)
    for name in PENDING_INDEXES:
        assert ddl[name].endswith("WHERE status = 'pending'"), ddl[name]
    assert "WHERE" not in ddl["ix_outbox_delivery"]
