"""What every record carries, changed in the middle of a run: a sign-in and sign-out (the app's
``user_id``), the app's own ``session_id``, a correlation id set by hand, and a worker thread
started before the change. Each change is followed by a record that must already show it (the
run's ambient fields are cached between records). Driven by tests/test_ambient_cache.py, under
AppTest and on a real server."""

import threading

import streamlit as st
from loguru import logger

from streamlit_extension import CorrelationIDManager, init_streamlit_logging, run_in_thread

init_streamlit_logging()

logger.info("run begins")  # the run's fields are built (and kept) here
name = st.text_input("name")
if st.button("sign in") and name:  # a login form: the rest of this run is the new user's
    st.session_state["user_id"] = name
    logger.info("signed in")
if st.button("sign out"):
    st.session_state.pop("user_id", None)
    logger.info("signed out")
if st.button("own session id") and name:
    st.session_state["session_id"] = "app-" + name
    logger.info("session id set")
if st.button("new correlation id") and name:
    CorrelationIDManager.set_correlation_id("req_app_" + name)
    logger.info("correlation id set")
if st.button("worker"):
    release = threading.Event()
    future = run_in_thread(lambda: (release.wait(10), logger.info("worker line")))
    st.session_state["user_id"] = "after-submit"  # the worker keeps the fields it was started with
    logger.info("main after submit")
    release.set()
    future.result()
logger.info("run ends")
