"""The demo app's Projects page: list, create, edit and delete projects of existing clients.

Like the Clients page, each change is a decorated operation (``create_project``,
``update_project``, ``delete_project``) nested in the ``render_projects_page`` operation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from streamlit_extension import demo_store
from streamlit_extension.app_pages.feedback import attempt, form_keys, renew_form, show_flash
from streamlit_extension.app_pages.sections import all_table, pick, save_or_delete
from streamlit_extension.demo_store import PROJECT_STATUSES, Client, Project, ValidationError
from streamlit_extension.utils.correlation_logging import correlation_logger, with_correlation_logging

_FLASH_KEY = "projects_flash"
_FORM = "new_project_form"
_NEW_FIELDS = ("new_project_key", "new_project_name", "new_project_client", "new_project_status")


@with_correlation_logging("create_project", lambda project_data: {"project_key": project_data.get("project_key")},
                          expected=(ValidationError,))
def create_project(project_data: dict[str, Any]) -> Project:
    """Store a new project from ``project_key``, ``name``, ``client_key``, ``status``; raises ValidationError."""
    return demo_store.insert_project(
        project_data.get("project_key"), project_data.get("name"), project_data.get("client_key"),
        project_data.get("status"),
    )


@with_correlation_logging("update_project", lambda project_data: {"project_key": project_data.get("project_key")},
                          expected=(ValidationError,))
def update_project(project_data: dict[str, Any]) -> Project:
    """Change the project named by ``project_key``; raises ValidationError."""
    return demo_store.update_project(
        project_data["project_key"], project_data.get("name"), project_data.get("client_key"),
        project_data.get("status"),
    )


@with_correlation_logging("delete_project", lambda project_key: {"project_key": project_key},
                          expected=(ValidationError,))
def delete_project(project_key: str) -> None:
    """Remove a project; raises ValidationError if it is already gone."""
    demo_store.delete_project(project_key)


def _client_label(clients: dict[str, Client]) -> Callable[[str], str]:
    # A client deleted meanwhile keeps its bare key rather than breaking the page.
    return lambda key: f"{key} — {clients[key].name}" if key in clients else key


def _create_form(clients: dict[str, Client]) -> None:
    keys = form_keys(_FORM, _NEW_FIELDS)
    with st.form("new_project_form"):
        st.subheader("New project")
        if not clients:
            st.warning("There are no clients yet: create one on the Clients page first.")
        project_key = st.text_input("Project key", key=keys["new_project_key"], placeholder="ACME-WEB")
        name = st.text_input("Name", key=keys["new_project_name"])
        # No preselection: if the chosen client is deleted meanwhile, Streamlit resets the widget to
        # this empty default, and the create is refused instead of going to another client.
        client_key = st.selectbox(
            "Client", list(clients), index=None, placeholder="Choose a client", key=keys["new_project_client"],
            format_func=_client_label(clients),
        )
        status = st.selectbox("Status", PROJECT_STATUSES, key=keys["new_project_status"])
        submitted = st.form_submit_button("Create project")
    if submitted:
        data = {"project_key": project_key.strip(), "name": name, "client_key": client_key, "status": status}
        if attempt(lambda: create_project(data), f"Project {data['project_key']} created.", _FLASH_KEY):
            renew_form(_FORM, _NEW_FIELDS)  # an empty form for the next project
            st.rerun()


def _edit_section(projects: list[Project], clients: dict[str, Client]) -> None:
    project = pick("project", {project.project_key: project for project in projects})
    if project is None:
        return
    client_keys = list(clients)
    current = client_keys.index(project.client_key) if project.client_key in clients else None
    # Keys carry the project key so each project's form starts from its own stored values.
    with st.form(f"edit_project_form_{project.project_key}"):
        name = st.text_input("Name", value=project.name, key=f"edit_project_name_{project.project_key}")
        client_key = st.selectbox(
            "Client", client_keys, index=current,
            key=f"edit_project_client_{project.project_key}", format_func=_client_label(clients),
        )
        status = st.selectbox(
            "Status", PROJECT_STATUSES, index=PROJECT_STATUSES.index(project.status),
            key=f"edit_project_status_{project.project_key}",
        )
        saved = st.form_submit_button("Save changes")
    data = {"project_key": project.project_key, "name": name, "client_key": client_key, "status": status}
    save_or_delete("project", project.project_key, saved, lambda: update_project(data),
                   lambda: delete_project(project.project_key), _FLASH_KEY)


def render_projects_page() -> None:
    """The whole page, as one tracked operation."""
    with correlation_logger.track_operation("render_projects_page"):
        st.title("Projects")
        show_flash(_FLASH_KEY)
        clients = {client.client_key: client for client in demo_store.list_clients()}
        _create_form(clients)
        projects = demo_store.list_projects()
        _edit_section(projects, clients)
        all_table("project", [{"project_key": p.project_key, "name": p.name, "client_key": p.client_key,
                               "status": p.status} for p in projects])


if __name__ in ("__main__", "__page__"):  # st.navigation runs this file as the page ("__page__" before 1.44)
    render_projects_page()
