"""Who may open the Log Explorer, and which folders it may read.

The logs hold every user's interactions, so the page is off unless configured:

* ``LOG_EXPLORER_USERS=ann@example.com,bob@example.com``: people signed in through ``st.user``
  (``st.login``, or a trusted proxy header) with one of these e-mail addresses;
* ``LOG_EXPLORER_USERS=localhost``: anyone whose browser runs on the server's own machine (any
  loopback address: 127.0.0.0/8, ``::1``, or ``::ffff:127.x.x.x`` as a dual-stack server sees an
  IPv4 client), for local development only (behind a reverse proxy on the same machine, every
  visitor is local).

A ``user_id`` an app keeps in session state is not an identity (in the demo's "Sign in as…"
picker anyone can pick anyone), so it grants nothing.

What it reads: the folder of the app's ``LOG_FILE``, and the folders an operator lists in
``LOG_EXPLORER_FOLDERS`` (comma-separated, e.g. replicas' volumes). Paths typed on the page are
resolved (``..``, symlinks) before they are compared, and anything else gets one and the same
refusal whether it exists or not, so the box can't read or probe the rest of the disk.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from ..schema import DEFAULT_LOG_FILE

ENV = "LOG_EXPLORER_USERS"
FOLDERS_ENV = "LOG_EXPLORER_FOLDERS"
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


def is_loopback(address: str) -> bool:
    """Is ``address`` (as a web server reports a client) this machine? IPv4-mapped IPv6 included."""
    text = address.strip().strip("[]").split("%", 1)[0]  # "[::1]", "fe80::1%eth0"
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def explorer_access() -> Access:
    """May the person behind the current script run open the Log Explorer?"""
    viewers = allowed_viewers()
    if not viewers:
        return Access(False, f"The Log Explorer is off. {HOW_TO}")
    from ..integration import compat

    ctx = compat.script_run_ctx()
    if ctx is None:
        return Access(False, "The Log Explorer only opens inside a Streamlit session.")
    local_allowed = LOCALHOST in viewers
    if local_allowed:
        address = compat.client_address(ctx)  # None: on this machine, as Streamlit reports it
        if address is None or is_loopback(address):
            return Access(True, "local development")
    email = compat.user_info(ctx).get("email")
    if isinstance(email, str) and email.strip().lower() in viewers:
        return Access(True, "listed")
    return Access(False, _refusal(email, people_listed=bool(viewers - {LOCALHOST}), local_allowed=local_allowed))


def _refusal(email: object, *, people_listed: bool, local_allowed: bool) -> str:
    """The real cause: not local, not signed in, or not in the list."""
    causes = []
    if local_allowed:
        causes.append("your browser is not on the server's machine (only local visitors are let in)")
    if people_listed:
        causes.append("you are not signed in" if not email else "your account is not in the list")
    return "The Log Explorer is closed to you: " + ", and ".join(causes) + f". Who may read the logs is set in {ENV}."


# -- the folders it may read --------------------------------------------------------------------


class FolderRefused(ValueError):  # noqa: N818 - reads as the refusal it is
    """A folder the Log Explorer may not read; the message is the same for every such path."""


def default_log_folder() -> str:
    """The folder of the active log file: ``$LOG_FILE``'s (default ``logs/app.jsonl``)."""
    log_file = os.environ.get("LOG_FILE", DEFAULT_LOG_FILE).strip() or DEFAULT_LOG_FILE
    return str(Path(log_file).parent)


def allowed_folders() -> list[Path]:
    """The app's log folder and ``LOG_EXPLORER_FOLDERS``'s, resolved."""
    listed = [default_log_folder(), *(part.strip() for part in os.environ.get(FOLDERS_ENV, "").split(","))]
    return list(dict.fromkeys(Path(folder).resolve() for folder in listed if folder))


def refusal_text(allowed: list[Path]) -> str:
    return (f"The Log Explorer reads only the app's log folder and the folders in {FOLDERS_ENV}: "
            f"{', '.join(str(folder) for folder in allowed)}.")


def checked_folders(text: str) -> list[Path]:
    """The folders typed (comma-separated), resolved, each one an allowed folder; else
    ``FolderRefused``, with one message whatever the path (existing or not, file or folder)."""
    allowed = allowed_folders()
    chosen = []
    for part in (part.strip() for part in text.split(",")):
        if not part:
            continue
        resolved = Path(part).resolve()
        if resolved not in allowed:
            raise FolderRefused(refusal_text(allowed))
        chosen.append(resolved)
    return list(dict.fromkeys(chosen))


def inside(path: Path, folders: list[Path]) -> bool:
    """Is ``path`` (a file listed in one of ``folders``) really there, symlinks resolved?"""
    try:
        return path.resolve().parent in folders
    except (OSError, RuntimeError):  # a symlink loop
        return False
