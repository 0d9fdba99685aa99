"""An app whose runs fail in every place a page can: the entrypoint, a page of
``st.navigation``, a fragment (in a full run and rerun alone). Driven by
tests/test_error_reference.py over the real websocket protocol."""

import streamlit as st
from loguru import logger

from streamlit_extension import current_reference, init_streamlit_logging, run_in_thread

init_streamlit_logging()
logger.info("page start")

if st.query_params.get("explode") == "entry":
    raise RuntimeError("entrypoint exploded")


@st.fragment
def fragment() -> None:
    if st.button("fragment boom"):
        raise KeyError("fragment exploded")


def home() -> None:
    if st.button("boom"):
        with st.container():
            raise ValueError("page exploded")
    if st.button("stop"):
        st.stop()
    if st.button("rerun") and not st.session_state.get("reran"):
        st.session_state["reran"] = True
        st.rerun()
    if st.button("handled"):
        try:
            raise ZeroDivisionError("no rate for this client")
        except ZeroDivisionError:
            logger.warning("could not compute the rate")
            st.error(f"Could not compute the rate. Reference: {current_reference()}")
            st.write(f"worker reference: {run_in_thread(current_reference).result()}")
    fragment()
    st.write("done")


def broken() -> None:
    raise LookupError("broken page")


st.navigation([st.Page(home, title="Home", default=True),
               st.Page(broken, title="Broken", url_path="broken")]).run()
