"""The Log Explorer: a page that reads the app's own logs back, for the people ``LOG_EXPLORER_USERS`` names.

Any app adds it to its navigation, on every run, in the entrypoint::

    pages = [st.Page("home.py", default=True)]
    if (explorer := explorer_page()) is not None:  # None: this visitor may not read the logs
        pages.append(explorer)
    st.navigation(pages).run()

Whoever ``explorer_access()`` leaves out doesn't see it in the navigation; reached anyway (an app
that lists ``page.render_log_explorer_page`` for everyone), the page shows the refusal itself.

The modules: ``access`` (who may open it, which folders it reads), ``filters`` and ``reports``
(the values passed around), ``data`` (reading the folders in bounded time and memory) and ``page``
(the rendering).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from streamlit_extension.explorer.access import Access, explorer_access

if TYPE_CHECKING:
    from streamlit_extension.integration.compat import StreamlitPage

__all__ = ["Access", "explorer_access", "explorer_page"]


def _render() -> None:
    # Imported when the page first opens, so pandas and altair load with it, not with every app run.
    from streamlit_extension.explorer.page import render_log_explorer_page

    render_log_explorer_page()


def explorer_page(title: str = "Log Explorer", url_path: str = "log_explorer") -> StreamlitPage | None:
    """The Log Explorer as an ``st.Page`` for ``st.navigation`` at ``/url_path``, or None when the
    person behind this script run may not open it (see ``explorer_access``)."""
    if not explorer_access().allowed:
        return None
    return st.Page(_render, title=title, url_path=url_path)
