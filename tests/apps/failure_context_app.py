"""An app that logs DEBUG detail on each click, for the failure-context test: "save" succeeds,
"fail" raises. Driven by tests/test_failure_context.py over the real websocket protocol."""

import logging

import streamlit as st
from loguru import logger

from streamlit_extension import init_streamlit_logging, run_in_thread

init_streamlit_logging()
logger.debug("page debug")


def work(outcome: str) -> None:
    logger.debug("validating the form for {}", outcome)
    run_in_thread(lambda: logger.debug("worker looked up the client for {}", outcome)).result()
    logging.getLogger("app.db").debug("UPDATE clients for %s", outcome)
    logger.info("saving for {}", outcome)


if st.button("save"):
    work("save")
    st.write("saved")
if st.button("fail"):
    work("fail")
    raise RuntimeError("the save failed")
st.write("done")
