"""An app that sets logging up once per process (in ``st.cache_resource``), so every run after
the first is found by its first record, not started by ``setup_logging()``. It records what
reached a sink during that first call, and shows it (tests/test_streamlit_integration.py)."""

import json
import time

import streamlit as st
from loguru import logger

from streamlit_extension import setup_logging


@st.cache_resource
def logging_once() -> list[list[str]]:
    setup_logging()
    seen: list[list[str]] = []  # [message, the thread that logged it]
    logger.add(lambda message: seen.append([message.record["message"], message.record["thread"].name]),
               level="INFO", format="{message}")
    return seen


seen = logging_once()
before = len(seen)
logger.info("first record of the run")
during = seen[before:]  # what the sinks got while that one call ran, from this thread
time.sleep(0.3)  # the run's start record comes from the announcer meanwhile
st.text(json.dumps({"during": during, "after": seen[before:]}))
