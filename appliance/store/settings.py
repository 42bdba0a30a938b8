"""Stored settings (`offen_settings`) and appliance metadata (`offen_meta`).

Settings are the operator's configuration values that `config.py` layers
under flags and environment; meta holds facts about the database itself
(the last migration backup, say). Neither ever holds a plaintext secret:
secrets live in the keychain.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Table, select

from appliance.store.db import Database, format_timestamp
from appliance.store.schema import meta, settings, table_names


def upsert(conn: Connection, table: Table, name: str, values: dict[str, str | None]) -> None:
    # Update-then-insert is portable, and safe because the caller holds the
    # write lock (SQLite) so nobody can insert the same name in between.
    result = conn.execute(table.update().where(table.c.name == name), values)
    if result.rowcount == 0:
        conn.execute(table.insert(), {"name": name, **values})


class SettingsMixin:
    """Store methods for settings and meta (mixed into `Store`)."""

    _db: Database

    def get_settings(self) -> dict[str, str]:
        with self._db.read():
            if settings.name not in table_names(self._db.conn):
                return {}  # before the first migration
            rows = self._db.conn.execute(select(settings.c.name, settings.c.value))
            return {row[0]: row[1] if row[1] is not None else "" for row in rows}

    def set_setting(self, name: str, value: str, now: datetime) -> None:
        with self._db.write():
            upsert(self._db.conn, settings, name, {"value": value, "updated": format_timestamp(now)})

    def delete_setting(self, name: str) -> bool:
        with self._db.write():
            return self._db.conn.execute(settings.delete().where(settings.c.name == name)).rowcount > 0

    def get_meta(self, name: str) -> str | None:
        with self._db.read():
            if meta.name not in table_names(self._db.conn):
                return None
            row = self._db.conn.execute(select(meta.c.value).where(meta.c.name == name)).first()
        return row[0] if row is not None else None

    def set_meta(self, name: str, value: str) -> None:
        with self._db.write():
            upsert(self._db.conn, meta, name, {"value": value})
