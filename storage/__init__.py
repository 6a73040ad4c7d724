"""Persistence: the database engine, table models, repositories and migrations."""

from storage.db import Database

__all__ = ["Database"]
