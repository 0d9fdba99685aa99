"""The demo app's small repository: clients and projects in a SQLite file.

Plain stdlib ``sqlite3`` and plain ``logging.getLogger(__name__)``, on purpose: this module is the
"legacy" code of the demo, and its records reach the correlation log only because
``setup_logging()`` intercepts the standard library.

The database is ``data/app.db`` relative to the working directory, or ``$DEMO_DB_PATH``. Tables
are created on first use. Each call opens its own connection (Streamlit runs every session's
script in its own thread) and each write is one transaction: it is applied whole or not at all.

Invalid input raises :class:`ValidationError`, whose message is meant for the user. Messages and
log lines name keys only, never an e-mail address.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_DB_PATH = os.path.join("data", "app.db")
DB_PATH_ENV = "DEMO_DB_PATH"

CLIENT_STATUSES = ("active", "inactive")
PROJECT_STATUSES = ("planned", "active", "on_hold", "done")

KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
MAX_NAME_LENGTH = 100

_SCHEMA = """
CREATE TABLE IF NOT EXISTS clients (
    client_key TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS projects (
    project_key TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    client_key  TEXT NOT NULL REFERENCES clients (client_key),
    status      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS projects_client_key ON projects (client_key);
"""


class ValidationError(ValueError):
    """Input the store refuses; the message is written for the person who typed it."""


class NotFoundError(ValidationError):
    """The client or project named does not exist (any more)."""


@dataclass(frozen=True)
class Client:
    client_key: str
    name: str
    email: str
    status: str
    created_at: str


@dataclass(frozen=True)
class Project:
    project_key: str
    name: str
    client_key: str
    status: str


def db_path() -> str:
    """Where the database lives: ``$DEMO_DB_PATH`` or ``data/app.db``."""
    return os.environ.get(DB_PATH_ENV) or DEFAULT_DB_PATH


@contextmanager
def _connect(write: bool = False) -> Iterator[sqlite3.Connection]:
    path = db_path()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a check and the write it guards
    # happen in one transaction.
    conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")  # off by default in SQLite, per connection
        conn.executescript(_SCHEMA)
        # IMMEDIATE takes the write lock up front: two sessions can't both pass a duplicate check.
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield conn
        except sqlite3.IntegrityError as exc:
            conn.execute("ROLLBACK")
            # A constraint the checks above missed: still a refusal, not a crash.
            raise ValidationError(f"The database refused the change ({exc}).") from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()


# -- validation ---------------------------------------------------------------------------------


def _clean_key(value: str | None, what: str) -> str:
    key = (value or "").strip()
    if not key:
        raise ValidationError(f"{what} key is required.")
    if not KEY_PATTERN.fullmatch(key):
        raise ValidationError(
            f"{what} key may only contain letters, digits, '-', '_' and '.', start with a letter or digit, "
            "and be at most 40 characters long."
        )
    return key


def _clean_name(value: str | None, what: str) -> str:
    name = (value or "").strip()
    if not name:
        raise ValidationError(f"{what} name is required.")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(f"{what} name must be at most {MAX_NAME_LENGTH} characters long.")
    return name


def _clean_email(value: str | None) -> str:
    email = (value or "").strip()
    if not email:
        raise ValidationError("E-mail is required.")
    if not EMAIL_PATTERN.fullmatch(email):
        # Neither the address nor an example of one: messages end up in the log, where the e-mail
        # redaction would turn an example into "[REDACTED]".
        raise ValidationError("E-mail is not a valid address: expected a name, an @ and a domain with a dot.")
    return email


def _clean_status(value: str | None, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValidationError(f"Status must be one of: {', '.join(allowed)}.")
    return value


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -- clients ------------------------------------------------------------------------------------


def _client(row: sqlite3.Row) -> Client:
    return Client(row["client_key"], row["name"], row["email"], row["status"], row["created_at"])


def list_clients() -> list[Client]:
    with _connect() as conn:
        rows = conn.execute("SELECT * FROM clients ORDER BY client_key").fetchall()
    return [_client(row) for row in rows]


def get_client(client_key: str) -> Client | None:
    with _connect() as conn:
        row = conn.execute("SELECT * FROM clients WHERE client_key = ?", (client_key,)).fetchone()
    return _client(row) if row else None


def insert_client(client_key: str | None, name: str | None, email: str | None, status: str | None = "active") -> Client:
    """Add a client; raises ValidationError for bad input or a key already taken."""
    client = Client(
        _clean_key(client_key, "Client"),
        _clean_name(name, "Client"),
        _clean_email(email),
        _clean_status(status, CLIENT_STATUSES),
        _now(),
    )
    with _connect(write=True) as conn:
        if conn.execute("SELECT 1 FROM clients WHERE client_key = ?", (client.client_key,)).fetchone():
            raise ValidationError(f"A client with key {client.client_key!r} already exists.")
        conn.execute(
            "INSERT INTO clients (client_key, name, email, status, created_at) VALUES (?, ?, ?, ?, ?)",
            (client.client_key, client.name, client.email, client.status, client.created_at),
        )
    log.info("inserted client %s", client.client_key, extra={"table": "clients"})
    return client


def update_client(client_key: str, name: str | None, email: str | None, status: str | None) -> Client:
    """Change a client's name, e-mail and status (the key never changes)."""
    name, email, status = _clean_name(name, "Client"), _clean_email(email), _clean_status(status, CLIENT_STATUSES)
    with _connect(write=True) as conn:
        cursor = conn.execute(
            "UPDATE clients SET name = ?, email = ?, status = ? WHERE client_key = ?", (name, email, status, client_key)
        )
        if cursor.rowcount == 0:
            raise NotFoundError(f"Client {client_key!r} does not exist (any more).")
        row = conn.execute("SELECT * FROM clients WHERE client_key = ?", (client_key,)).fetchone()
    log.info("updated client %s", client_key, extra={"table": "clients"})
    return _client(row)


def delete_client(client_key: str) -> None:
    """Remove a client; refused while it still has projects."""
    with _connect(write=True) as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM projects WHERE client_key = ?", (client_key,)).fetchone()
        if count:
            raise ValidationError(
                f"Client {client_key!r} still has {count} project(s); delete or move them first."
            )
        if conn.execute("DELETE FROM clients WHERE client_key = ?", (client_key,)).rowcount == 0:
            raise NotFoundError(f"Client {client_key!r} does not exist (any more).")
    log.info("deleted client %s", client_key, extra={"table": "clients"})


# -- projects -----------------------------------------------------------------------------------


def _project(row: sqlite3.Row) -> Project:
    return Project(row["project_key"], row["name"], row["client_key"], row["status"])


def _require_client(conn: sqlite3.Connection, client_key: str | None) -> str:
    if not client_key:
        raise ValidationError("Choose a client for the project (create one on the Clients page first).")
    if not conn.execute("SELECT 1 FROM clients WHERE client_key = ?", (client_key,)).fetchone():
        raise NotFoundError(f"Client {client_key!r} does not exist (any more).")
    return client_key


def list_projects() -> list[Project]:
    with _connect() as conn:
        rows = conn.execute("SELECT * FROM projects ORDER BY project_key").fetchall()
    return [_project(row) for row in rows]


def insert_project(project_key: str | None, name: str | None, client_key: str | None,
                   status: str | None = "planned") -> Project:
    """Add a project for an existing client; raises ValidationError otherwise."""
    key, name = _clean_key(project_key, "Project"), _clean_name(name, "Project")
    status = _clean_status(status, PROJECT_STATUSES)
    with _connect(write=True) as conn:
        client_key = _require_client(conn, client_key)
        if conn.execute("SELECT 1 FROM projects WHERE project_key = ?", (key,)).fetchone():
            raise ValidationError(f"A project with key {key!r} already exists.")
        conn.execute(
            "INSERT INTO projects (project_key, name, client_key, status) VALUES (?, ?, ?, ?)",
            (key, name, client_key, status),
        )
    log.info("inserted project %s for client %s", key, client_key, extra={"table": "projects"})
    return Project(key, name, client_key, status)


def update_project(project_key: str, name: str | None, client_key: str | None, status: str | None) -> Project:
    """Change a project's name, client and status (the key never changes)."""
    name, status = _clean_name(name, "Project"), _clean_status(status, PROJECT_STATUSES)
    with _connect(write=True) as conn:
        client_key = _require_client(conn, client_key)
        cursor = conn.execute(
            "UPDATE projects SET name = ?, client_key = ?, status = ? WHERE project_key = ?",
            (name, client_key, status, project_key),
        )
        if cursor.rowcount == 0:
            raise NotFoundError(f"Project {project_key!r} does not exist (any more).")
    log.info("updated project %s", project_key, extra={"table": "projects"})
    return Project(project_key, name, client_key, status)


def delete_project(project_key: str) -> None:
    with _connect(write=True) as conn:
        if conn.execute("DELETE FROM projects WHERE project_key = ?", (project_key,)).rowcount == 0:
            raise NotFoundError(f"Project {project_key!r} does not exist (any more).")
    log.info("deleted project %s", project_key, extra={"table": "projects"})
