"""Who may open the Log Explorer: the people named in ``LOG_EXPLORER_USERS``, nobody else.

The logs hold every user's interactions, so the page is off unless configured:

* ``LOG_EXPLORER_USERS=ann@example.com,bob@example.com``: people signed in through ``st.user``
  (``st.login``, or a trusted proxy header) with one of these e-mail addresses;
* ``LOG_EXPLORER_USERS=localhost``: anyone whose browser runs on the server's own machine, for
  local development only (behind a reverse proxy on the same machine, every visitor is local).

The demo's "Sign in as…" picker is not an identity (anyone can pick anyone), so it grants nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ENV = "LOG_EXPLORER_USERS"
LOCALHOST = "localhost"
HOW_TO = (f"Set {ENV} to the e-mail addresses of the people who may read the logs "
          f"(signed in with st.login or a trusted proxy header), or to {LOCALHOST!r} for local development.")


@dataclass(frozen=True)
class Access:
    allowed: bool
    reason: str


def allowed_viewers() -> frozenset[str]:
    """The lower-cased entries of ``LOG_EXPLORER_USERS``."""
    return frozenset(part.strip().lower() for part in os.environ.get(ENV, "").split(",") if part.strip())


def explorer_access() -> Access:
    """May the person behind the current script run open the Log Explorer?"""
    viewers = allowed_viewers()
    if not viewers:
        return Access(False, f"The Log Explorer is off. {HOW_TO}")
    from ..integration import compat

    ctx = compat.script_run_ctx()
    if ctx is None:
        return Access(False, "The Log Explorer only opens inside a Streamlit session.")
    if LOCALHOST in viewers and compat.client_address(ctx) is None:
        return Access(True, "local development")
    email = compat.user_info(ctx).get("email")
    if isinstance(email, str) and email.strip().lower() in viewers:
        return Access(True, "listed")
    who = "You are not signed in" if not email else "Your account is not listed"
    return Access(False, f"{who}: the Log Explorer is open only to the people in {ENV}.")
