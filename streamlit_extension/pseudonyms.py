"""Stable pseudonyms for people: ``user_`` + 16 hex digits of an HMAC of who they are.

Raw identities (e-mail addresses, OAuth subjects) are never written. The same identity always
maps to the same id here, with a per-installation salt, so one person keeps one id across
sessions and restarts, and the id can't be turned back into the address. Used for ``st.user``
identities and for an e-mail an app binds as ``user_id`` itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _report
from ._shared import shared
from .validators import is_valid_id

SALT_ENV = "STREAMLIT_EXTENSION_SALT"


@dataclass(eq=False)
class Salt:
    value: bytes | None = None  # read or created on first use
    lock: threading.Lock = field(default_factory=threading.Lock)


_salt: Salt = shared(f"{__name__}.salt", Salt)


def _salt_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "streamlit_extension" / "user_salt"


def _load_salt() -> bytes:
    configured = os.environ.get(SALT_ENV)
    if configured:
        return configured.encode()
    path = _salt_path()
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        pass
    salt = secrets.token_bytes(32)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(salt.hex())
        os.link(temporary, path)  # appears whole, or not at all if another process was first
    except FileExistsError:  # another process won the race: use its salt
        return bytes.fromhex(path.read_text().strip())
    except OSError as exc:
        _report.notice(f"cannot store the user-id salt ({_report.describe(exc)}); "
                       "user ids are stable for this process only")
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
    return salt


def _shared_salt() -> bytes:
    """The process's salt, loaded once: two first callers must not hash with different salts."""
    with _salt.lock:
        if _salt.value is None:
            _salt.value = _load_salt()
        return _salt.value


def pseudonymise(identity: str) -> str:
    """``user_`` + 16 hex digits: the same identity always maps to the same id here."""
    salt = _salt.value
    if salt is None:
        salt = _shared_salt()
    digest = hmac.new(salt, identity.strip().lower().encode("utf-8", "backslashreplace"), hashlib.sha256)
    return "user_" + digest.hexdigest()[:16]


def user_id_of(value: Any) -> str | None:
    """A ``user_id`` an app supplied: kept if it is a plain id, else its pseudonym."""
    if value is None or value == "":
        return None
    if is_valid_id(value) and "@" not in value:
        return value
    return pseudonymise(str(value))
