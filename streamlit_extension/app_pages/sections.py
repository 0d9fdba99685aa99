"""The sections the Clients and Projects pages share: "Edit or delete" (pick one stored record by
its key, then save the edit form's changes or delete it) and "All ..." (the table of them all).

Each page draws its own edit form between ``pick`` and ``save_or_delete`` (its fields differ); the
headings, widget keys and messages follow the noun (``edit_client_key``, "Client ACME updated.").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import streamlit as st

from streamlit_extension.app_pages.feedback import attempt


class Named(Protocol):
    """A stored record the picker can label: a ``Client`` or a ``Project``."""

    @property
    def name(self) -> str: ...


R = TypeVar("R", bound=Named)


def pick(noun: str, by_key: dict[str, R]) -> R | None:
    """The section's heading and the record chosen by key ("KEY — name"); None when there are none."""
    st.subheader(f"Edit or delete a {noun}")
    if not by_key:
        st.caption(f"No {noun}s yet.")
        return None
    selected = st.selectbox(noun.capitalize(), list(by_key), key=f"edit_{noun}_key",
                            format_func=lambda key: f"{key} — {by_key[key].name}")
    return None if selected is None else by_key[selected]  # None: only with no options, returned above


def save_or_delete(noun: str, key: str, saved: bool, save: Callable[[], Any], delete: Callable[[], Any],
                   flash_key: str) -> None:
    """Run ``save`` if the edit form was sent (``saved``), and ``delete`` on the "Delete <noun>"
    button; a change that went through reruns the page, so it shows the stored data."""
    if saved and attempt(save, f"{noun.capitalize()} {key} updated.", flash_key):
        st.rerun()
    if st.button(f"Delete {noun}", key=f"delete_{noun}_button"):
        if attempt(delete, f"{noun.capitalize()} {key} deleted.", flash_key):
            st.rerun()


def all_table(noun: str, rows: list[dict[str, str]]) -> None:
    """The "All <noun>s" heading and a table with one row per record."""
    st.subheader(f"All {noun}s")
    if not rows:
        st.info(f"No {noun}s yet: create the first one above.")
        return
    st.dataframe(rows, hide_index=True)
