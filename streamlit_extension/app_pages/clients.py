"""The demo app's Clients page: list, create, edit and delete clients.

Each change goes through a function decorated with ``with_correlation_logging``, so the log shows
``create_client`` / ``update_client`` / ``delete_client`` operations nested in the page's own
``render_clients_page`` operation, all under the interaction's correlation id.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from streamlit_extension import demo_store
from streamlit_extension.app_pages.backend import notify_backend
from streamlit_extension.app_pages.feedback import attempt, form_keys, renew_form, show_flash
from streamlit_extension.app_pages.sections import all_table, pick, save_or_delete
from streamlit_extension.demo_store import CLIENT_STATUSES, Client, ValidationError
from streamlit_extension.utils.correlation_logging import correlation_logger, with_correlation_logging

_FLASH_KEY = "clients_flash"
_FORM = "new_client_form"
_NEW_FIELDS = ("new_client_key", "new_client_name", "new_client_email", "new_client_status")


@with_correlation_logging("create_client", lambda client_data: {"client_key": client_data.get("client_key")},
                          expected=(ValidationError,))
def create_client(client_data: dict[str, Any]) -> Client:
    """Store a new client from ``client_key``, ``name``, ``email``, ``status``; raises ValidationError."""
    return demo_store.insert_client(
        client_data.get("client_key"), client_data.get("name"), client_data.get("email"), client_data.get("status")
    )


@with_correlation_logging("update_client", lambda client_data: {"client_key": client_data.get("client_key")},
                          expected=(ValidationError,))
def update_client(client_data: dict[str, Any]) -> Client:
    """Change the client named by ``client_key``; raises ValidationError."""
    return demo_store.update_client(
        client_data["client_key"], client_data.get("name"), client_data.get("email"), client_data.get("status")
    )


@with_correlation_logging("delete_client", lambda client_key: {"client_key": client_key},
                          expected=(ValidationError,))
def delete_client(client_key: str) -> None:
    """Remove a client without projects; raises ValidationError."""
    demo_store.delete_client(client_key)


def _create_form() -> None:
    keys = form_keys(_FORM, _NEW_FIELDS)
    with st.form("new_client_form"):
        st.subheader("New client")
        client_key = st.text_input("Client key", key=keys["new_client_key"], placeholder="ACME")
        name = st.text_input("Name", key=keys["new_client_name"])
        email = st.text_input("E-mail", key=keys["new_client_email"], placeholder="contact@example.com")
        status = st.selectbox("Status", CLIENT_STATUSES, key=keys["new_client_status"])
        submitted = st.form_submit_button("Create client")
    if submitted:
        new_key = client_key.strip()
        data = {"client_key": new_key, "name": name, "email": email, "status": status}
        if attempt(lambda: create_client(data), f"Client {new_key} created.", _FLASH_KEY):
            notify_backend(new_key)
            renew_form(_FORM, _NEW_FIELDS)  # an empty form for the next client
            st.rerun()


def _edit_section(clients: list[Client]) -> None:
    client = pick("client", {client.client_key: client for client in clients})
    if client is None:
        return
    # Keys carry the client key so each client's form starts from its own stored values.
    with st.form(f"edit_client_form_{client.client_key}"):
        name = st.text_input("Name", value=client.name, key=f"edit_client_name_{client.client_key}")
        email = st.text_input("E-mail", value=client.email, key=f"edit_client_email_{client.client_key}")
        status = st.selectbox(
            "Status", CLIENT_STATUSES, index=CLIENT_STATUSES.index(client.status),
            key=f"edit_client_status_{client.client_key}",
        )
        saved = st.form_submit_button("Save changes")
    data = {"client_key": client.client_key, "name": name, "email": email, "status": status}
    save_or_delete("client", client.client_key, saved, lambda: update_client(data),
                   lambda: delete_client(client.client_key), _FLASH_KEY)


def render_clients_page() -> None:
    """The whole page, as one tracked operation."""
    with correlation_logger.track_operation("render_clients_page"):
        st.title("Clients")
        show_flash(_FLASH_KEY)
        _create_form()
        clients = demo_store.list_clients()
        _edit_section(clients)
        all_table("client", [{"client_key": c.client_key, "name": c.name, "email": c.email, "status": c.status}
                             for c in clients])


if __name__ in ("__main__", "__page__"):  # st.navigation runs this file as the page ("__page__" before 1.44)
    render_clients_page()
