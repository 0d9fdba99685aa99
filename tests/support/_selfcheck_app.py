"""Tiny Streamlit app used by ``tests/test_streamlit_server_support.py``.

It renders, as plain ``key=value`` lines, what the session received so the test
can check the websocket driver end to end: the session id, the trusted-header
user email, a request-id header, a run counter, a button and a text input, plus a
second ``st.navigation`` page.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx


def _common() -> None:
    ctx = get_script_run_ctx()
    st.write(f"session_id={ctx.session_id if ctx is not None else None}")
    # With server.trustedUserHeaders={"X-Forwarded-Email": "email"} this is the header.
    user = st.user if hasattr(st, "user") else st.experimental_user  # st.user is 1.42+
    st.write(f"email={user.get('email')}")
    st.write(f"request_id={st.context.headers.get('X-Request-ID')}")
    st.session_state["runs"] = st.session_state.get("runs", 0) + 1
    st.write(f"runs={st.session_state['runs']}")


def home() -> None:
    st.write("page=home")
    if st.button("Click me"):
        st.session_state["clicks"] = st.session_state.get("clicks", 0) + 1
        st.write("button_clicked=True")
    st.write(f"clicks={st.session_state.get('clicks', 0)}")
    name = st.text_input("Your name")
    st.write(f"name={name}")


def other() -> None:
    st.write("page=other")


_common()
st.navigation(
    [
        st.Page(home, title="Home", url_path="home", default=True),
        st.Page(other, title="Other page", url_path="other"),
    ]
).run()
