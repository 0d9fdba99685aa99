"""What counts as a usable correlation or request id.

Ids reach us from apps, session state and proxy headers, so they are treated as hostile: only a
short, plain charset is accepted, and a rejected value is never echoed into a log line.
"""

from __future__ import annotations

import re
from typing import Any

MAX_ID_LENGTH = 128
_ID_RE = re.compile(rf"[A-Za-z0-9._:-]{{1,{MAX_ID_LENGTH}}}")


def is_valid_id(value: Any) -> bool:
    """True if ``value`` is a non-empty str of at most 128 chars from ``[A-Za-z0-9._:-]``."""
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None
