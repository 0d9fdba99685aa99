"""A page that does 300 tracked operations per run with OpenTelemetry on: what is queued for the
collector when ``streamlit run`` is stopped. Driven by tests/test_otel_exit.py."""

import streamlit as st
from loguru import logger

from streamlit_extension import correlation_logger, init_streamlit_logging

init_streamlit_logging(otel="on")
for n in range(300):
    with correlation_logger.track_operation("op"):
        logger.info("record {}", n)
st.write("done")
