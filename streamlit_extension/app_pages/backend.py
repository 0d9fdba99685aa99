"""The demo's call to a backend service (``DEMO_BACKEND_URL``): a click's interaction carried on.

The request carries ``outgoing_headers()``: ``traceparent`` (OpenTelemetry on), ``baggage`` with
the correlation id, and ``X-Request-ID``, so the service's own logs and spans join the click's.
Unset, the demo calls nothing.
"""

from __future__ import annotations

import json
import os
import urllib.request

import streamlit as st

from streamlit_extension.utils.correlation_logging import outgoing_headers, with_correlation_logging

BACKEND_ENV = "DEMO_BACKEND_URL"


@with_correlation_logging("notify_backend", lambda client_key, url: {"client_key": client_key})
def _notify(client_key: str, url: str) -> None:
    body = json.dumps({"client_key": client_key}).encode()
    headers = {"Content-Type": "application/json", **outgoing_headers()}
    request = urllib.request.Request(f"{url.rstrip('/')}/clients", data=body, headers=headers, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # a service next door
    with opener.open(request, timeout=5) as response:
        response.read()


def notify_backend(client_key: str) -> None:
    """Tell the backend about a new client; a failure is shown, logged, and not fatal."""
    url = os.environ.get(BACKEND_ENV)
    if not url:
        return
    try:
        _notify(client_key, url)
    except OSError as exc:  # logged as failed by the decorator; the client itself was saved
        st.warning(f"The backend service could not be told ({exc.__class__.__name__}).")
