"""The demo app's Log Explorer page: a placeholder until the explorer itself is built."""

from __future__ import annotations

import streamlit as st


def render_log_explorer_page() -> None:
    st.title("Log Explorer")
    st.info("The log explorer arrives in a later release. Until then, read the JSON lines in the log file.")


if __name__ == "__main__":  # st.navigation executes this file as the page script
    render_log_explorer_page()
