"""Who is on the other end of a Streamlit session: user pseudonyms and proxy request ids.

Raw identities (e-mail addresses, OAuth subjects) are never written: they are replaced by a
stable ``user_`` + HMAC with a per-installation salt, so one person keeps one id across
sessions and restarts. Proxy headers are accepted only when valid, and a rejected value is
never echoed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from .. import _report, _state
from ..validators import is_valid_id

SALT_ENV = "STREAMLIT_EXTENSION_SALT"
REQUEST_ID_HEADERS = ("x-request-id", "x-correlation-id")
_TRACEPARENT = re.compile(r"(?P<version>[0-9a-f]{2})-(?P<trace>[0-9a-f]{32})-(?P<span>[0-9a-f]{16})-[0-9a-f]{2}")


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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(salt.hex())
    except FileExistsError:  # another process won the race: use its salt
        return bytes.fromhex(path.read_text().strip())
    except OSError as exc:
        _report.notice(f"cannot store the user-id salt ({_report.describe(exc)}); user ids are stable for this process only")
    return salt


def pseudonymise(identity: str) -> str:
    """``user_`` + 16 hex digits: the same identity always maps to the same id here."""
    salt = _state.persistent("user_salt", _load_salt)
    digest = hmac.new(salt, identity.strip().lower().encode("utf-8", "backslashreplace"), hashlib.sha256)
    return "user_" + digest.hexdigest()[:16]


def user_from_info(user_info: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The pseudonymised ``email`` (else ``sub``) of an authenticated user, or None."""
    if not user_info:
        return None
    for key in ("email", "sub"):
        value = user_info.get(key)
        if isinstance(value, str) and value.strip():
            return pseudonymise(value)
    return None


def app_user_id(value: Any) -> Optional[str]:
    """A ``user_id`` the app put in session state: kept if it is a plain id, else pseudonymised."""
    if value is None or value == "":
        return None
    if is_valid_id(value) and "@" not in value:
        return value
    return pseudonymise(str(value))


def valid_trace_id(traceparent: str) -> Optional[str]:
    """The trace id of a W3C ``traceparent``, or None if it is not valid."""
    match = _TRACEPARENT.fullmatch(traceparent.strip())
    if match is None or match["version"] == "ff":
        return None
    if set(match["trace"]) == {"0"} or set(match["span"]) == {"0"}:
        return None
    return match["trace"]


def request_fields(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``request_id`` / ``trace_id`` from a connection's handshake headers, when valid."""
    found: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if key in REQUEST_ID_HEADERS and "request_id" not in found:
            if is_valid_id(value):
                found["request_id"] = value
            else:
                _report.notice_once(f"bad-header:{key}", f"ignored an invalid {name} header (length {len(value)})")
        elif key == "traceparent" and "trace_id" not in found:
            trace = valid_trace_id(value)
            if trace:
                found["trace_id"] = trace
            else:
                _report.notice_once("bad-header:traceparent", f"ignored an invalid traceparent header (length {len(value)})")
    return found
