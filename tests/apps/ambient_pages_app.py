"""``st.navigation`` choosing the page in the middle of a run: the records before it, in the
page, and after it. Driven by tests/test_ambient_cache.py."""

import streamlit as st
from loguru import logger

from streamlit_extension import init_streamlit_logging

init_streamlit_logging()

logger.info("before navigation")


def alpha() -> None:
    logger.info("in alpha")
    if st.button("to beta"):
        st.switch_page(PAGES[1])


def beta() -> None:
    logger.info("in beta")


PAGES = [st.Page(alpha, title="Alpha", default=True), st.Page(beta, title="Beta", url_path="beta")]
page = st.navigation(PAGES)
logger.info("after navigation")
page.run()
logger.info("after page")
