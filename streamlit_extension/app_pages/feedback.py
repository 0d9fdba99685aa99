"""How the demo pages run a change and tell the user how it went.

A refused change shows its reason at once. A successful one is remembered in session state and
shown after the ``st.rerun()`` that redraws the page with fresh data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from streamlit_extension.demo_store import ValidationError


def attempt(action: Callable[[], Any], success: str, flash_key: str) -> bool:
    """Run ``action``; True (and ``success`` kept for the next run) unless it was refused."""
    try:
        action()
    except ValidationError as exc:
        # The decorated function has already logged the failure; the user gets the reason.
        st.error(str(exc))
        return False
    st.session_state[flash_key] = success
    return True


def show_flash(flash_key: str) -> None:
    """Show, once, the success message the previous run left."""
    message = st.session_state.pop(flash_key, None)
    if message:
        st.success(message)


def form_keys(form: str, fields: tuple[str, ...]) -> dict[str, str]:
    """The widget keys of a create form, renewed by ``renew_form`` after each success.

    A browser keeps a form's typed values for as long as its widgets keep their keys (their ids),
    so after a successful create the form would still hold it, and a second click would make a
    duplicate. The first generation keeps the plain names.
    """
    generation = st.session_state.get(f"{form}_generation", 0)
    return {field: f"{field}_{generation}" if generation else field for field in fields}


def renew_form(form: str, fields: tuple[str, ...]) -> None:
    """An empty form on the next run: forget this generation's values, move to the next keys."""
    for key in form_keys(form, fields).values():
        st.session_state.pop(key, None)
    st.session_state[f"{form}_generation"] = st.session_state.get(f"{form}_generation", 0) + 1
