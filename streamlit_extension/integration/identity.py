"""Who is on the other end of a Streamlit session: the signed-in user and proxy request ids.

A signed-in user is written as their pseudonym (see ``pseudonyms``), never as an address. Proxy
headers are accepted only when valid, and a rejected value is never echoed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from .. import _report
from ..pseudonyms import pseudonymise
from ..validators import is_valid_id

REQUEST_ID_HEADERS = ("x-request-id", "x-correlation-id")
_TRACEPARENT = re.compile(r"(?P<version>[0-9a-f]{2})-(?P<trace>[0-9a-f]{32})-(?P<span>[0-9a-f]{16})-[0-9a-f]{2}")


def user_from_info(user_info: Mapping[str, Any] | None) -> str | None:
    """The pseudonymised ``email`` (else ``sub``) of an authenticated user, or None."""
    if not user_info:
        return None
    for key in ("email", "sub"):
        value = user_info.get(key)
        if isinstance(value, str) and value.strip():
            return pseudonymise(value)
    return None


class Traceparent(NamedTuple):
    trace_id: str
    span_id: str
    sampled: bool


def parse_traceparent(value: str) -> Traceparent | None:
    """A valid W3C ``traceparent``'s parts, or None."""
    match = _TRACEPARENT.fullmatch(value.strip())
    if match is None or match["version"] == "ff":
        return None
    if set(match["trace"]) == {"0"} or set(match["span"]) == {"0"}:
        return None
    return Traceparent(match["trace"], match["span"], bool(int(value.strip()[-2:], 16) & 1))


def valid_trace_id(traceparent: str) -> str | None:
    """The trace id of a W3C ``traceparent``, or None if it is not valid."""
    parsed = parse_traceparent(traceparent)
    return parsed.trace_id if parsed else None


def incoming_traceparent(headers: Iterable[tuple[str, str]]) -> Traceparent | None:
    """The handshake's ``traceparent`` (per connection, not per click: a span link, not a parent)."""
    for name, value in headers:
        if name.lower() == "traceparent":
            return parse_traceparent(value)
    return None


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
                _report.notice_once("bad-header:traceparent",
                                    f"ignored an invalid traceparent header (length {len(value)})")
    return found
