"""The demo app: clients and projects for several people at once, with correlation logging.

Start it with ``streamlit run streamlit_extension/app.py``. The data goes to ``data/app.db`` (or
``$DEMO_DB_PATH``), the log to ``logs/app.jsonl`` (or ``$LOG_FILE``). Pick a different
"Sign in as…" user in two browser tabs to see two people's interactions side by side in the log.
"""

from __future__ import annotations

# The one logging setup call, first: everything below, Streamlit's own records included, is logged.
from streamlit_extension import init_streamlit_logging

init_streamlit_logging()

import streamlit as st  # noqa: E402

from streamlit_extension.explorer import explorer_access, explorer_page  # noqa: E402

DEMO_USERS = ("anonymous", "alice", "bob", "carol")
_SIGN_IN_KEY = "sign_in_as"


def _apply_sign_in() -> None:
    # A callback runs before the script, so the whole rerun already carries the new user.
    choice = st.session_state.get(_SIGN_IN_KEY, "anonymous")
    if choice == "anonymous":
        st.session_state.pop("user_id", None)
    else:
        st.session_state["user_id"] = choice


def sign_in_sidebar() -> None:
    """The "Sign in as…" picker: a stand-in for real authentication in the demo."""
    st.sidebar.selectbox("Sign in as…", DEMO_USERS, key=_SIGN_IN_KEY, on_change=_apply_sign_in)
    user = st.session_state.get("user_id")
    st.sidebar.caption(f"Signed in as {user}" if user else "Not signed in: your log records say anonymous.")


def main() -> None:
    st.set_page_config(page_title="Clients & projects demo", layout="wide")
    sign_in_sidebar()
    # The demo's own pages are files (paths relative to this script): AppTest.switch_page("app_pages/...").
    pages = [
        st.Page("app_pages/clients.py", title="Clients", url_path="clients", default=True),
        st.Page("app_pages/projects.py", title="Projects", url_path="projects"),
    ]
    explorer = explorer_page()  # everyone's logs: only for the people LOG_EXPLORER_USERS names
    if explorer is not None:
        pages.append(explorer)
    else:
        st.sidebar.caption(f"Log Explorer hidden. {explorer_access().reason}")
    st.navigation(pages).run()


main()
