"""The Log Explorer's filter settings: what the filter widgets ask for, and what the reader applies.

One frozen value per run, built by the page (``page``) and handed to the reading (``data``); it is
hashable, so the caches key on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True, slots=True)
class Filters:
    """What the filter widgets ask for; an empty text means "any"."""

    since: pd.Timestamp | None  # records at or after this (UTC) ...
    until: pd.Timestamp | None  # ... and before this
    min_level: int  # level number; 0: every record, levels unknown to the page included
    user_id: str
    session_id: str
    correlation_id: str
    text: str  # the message contains it (any case)
    hide_own: bool  # leave out the Log Explorer's own runs (unless asked for by correlation id)
    server: bool  # show the web server's lines outside any interaction
    operation: str | None = None  # chosen once the folder is read: its operations are the choices

    def ids(self) -> dict[str, str]:
        """The id filters by field name, the most selective first."""
        return {"correlation_id": self.correlation_id, "session_id": self.session_id, "user_id": self.user_id}
