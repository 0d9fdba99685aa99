"""A small Streamlit app that exercises the integration: reruns, stop, failures, fragments,
worker threads, session-state identity and Streamlit's own loggers. Driven by
tests/test_streamlit_integration.py over the real websocket protocol."""

import logging
import threading

import streamlit as st
import streamlit.logger as st_logger
from loguru import logger

from streamlit_extension import ContextThreadPoolExecutor, correlation_logger, init_streamlit_logging, run_in_thread

probe = st_logger.get_logger("streamlit.probe")  # a Streamlit-managed logger, created before setup
init_streamlit_logging()
legacy = logging.getLogger("legacy.integration")

logger.info("page start")
legacy.info("legacy page line")
probe.warning("streamlit probe line")

user = st.text_input("user_id")
if user:
    st.session_state["user_id"] = user
session = st.text_input("session_id")
if session:
    st.session_state["session_id"] = session
if st.button("leak secret"):
    logger.info("connecting with password {}", st.secrets["db"]["password"])

if st.button("rerun") and not st.session_state.get("reran"):
    st.session_state["reran"] = True
    st.rerun()
if st.button("stop"):
    st.stop()
if st.button("boom"):
    raise ValueError("page exploded")
if st.button("work"):
    with correlation_logger.track_operation("spawn"):
        run_in_thread(lambda: logger.info("worker thread")).result()
        with ContextThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda n: logging.getLogger("legacy.pool").info("pool task %d", n), range(3)))
        bare = threading.Thread(target=lambda: logger.info("bare thread"))
        bare.start()
        bare.join()


@st.fragment
def fragment() -> None:
    if st.button("fragment"):
        logger.info("fragment click")


fragment()
st.write("done")
