"""Self-check of ``tests/support/streamlit_server.py`` against a real ``streamlit run``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.streamlit_server import (
    TRUSTED_USER_HEADERS,
    RunResult,
    StreamlitServer,
    StreamlitSession,
    run_sessions,
    step_click_button,
    step_rerun,
    trusted_user_header_args,
)

pytestmark = pytest.mark.streamlit  # the Streamlit-side set: CI runs it on the floor and 1.56 too

APP = Path(__file__).parent / "support" / "_selfcheck_app.py"
TRUSTED_HEADERS = trusted_user_header_args({"X-Forwarded-Email": "email"})
N_SESSIONS = 8


@pytest.fixture(scope="module")
def server() -> Iterator[StreamlitServer]:
    t0 = time.perf_counter()
    with StreamlitServer(
        APP,
        extra_args=TRUSTED_HEADERS,
        startup_timeout=30,
    ) as srv:
        print(f"\nserver {srv} healthy after {time.perf_counter() - t0:.2f}s")
        yield srv
        assert srv.is_running, srv.logs()


def _email(sent):
    """What the app shows as st.user's e-mail: the trusted header where Streamlit maps it,
    else Streamlit's local stand-in (before 1.42) or nothing."""
    if TRUSTED_USER_HEADERS:
        return str(sent)
    import streamlit

    return "test@example.com" if not hasattr(streamlit, "login") else "None"


def _values(result: RunResult, key: str) -> list[str]:
    """Values of the app's ``key=value`` lines."""
    prefix = f"{key}="
    return [t[len(prefix) :] for t in result.texts if t.startswith(prefix)]


def test_concurrent_sessions_with_distinct_users(server: StreamlitServer) -> None:
    t0 = time.perf_counter()
    transcripts = run_sessions(
        server,
        N_SESSIONS,
        [step_rerun(), step_rerun(), step_rerun(), step_click_button("Click me")],
        lambda i: {"X-Forwarded-Email": f"user{i}@example.com", "X-Request-ID": f"req-{i}"},
        run_timeout=20,
        total_timeout=60,
    )
    elapsed = time.perf_counter() - t0
    print(f"{N_SESSIONS} sessions x 5 runs in {elapsed:.2f}s")

    assert len(transcripts) == N_SESSIONS
    session_ids = {t.session_id for t in transcripts}
    assert len(session_ids) == N_SESSIONS, session_ids

    for t in transcripts:
        email, request_id = _email(f"user{t.index}@example.com"), f"req-{t.index}"
        assert len(t.results) == 5  # page load + 3 reruns + click
        for run_no, result in enumerate(t.results, start=1):
            assert result.ok, (result.status, result.exceptions, server.logs())
            assert result.session_id == t.session_id
            # The app sees its own session, user and headers, nobody else's.
            assert _values(result, "session_id") == [t.session_id]
            assert _values(result, "email") == [email]
            assert _values(result, "request_id") == [request_id]
            assert _values(result, "runs") == [str(run_no)]
        before_click, click = t.results[:-1], t.results[-1]
        assert all(not r.contains("button_clicked=True") for r in before_click)
        assert all(_values(r, "clicks") == ["0"] for r in before_click)
        assert click.contains("button_clicked=True")
        assert _values(click, "clicks") == ["1"]


def test_text_input_trigger_reset_and_pages(server: StreamlitServer) -> None:
    async def scenario() -> None:
        headers = {"X-Forwarded-Email": "solo@example.com"}
        async with StreamlitSession(server, headers=headers, timeout=20) as session:
            assert session.last_result is not None
            assert [p.title for p in session.pages] == ["Home", "Other page"]

            typed = await session.set_text_input("Your name", "Ada Lovelace")
            assert _values(typed, "name") == ["Ada Lovelace"]

            clicked = await session.click_button("Click me")
            assert clicked.contains("button_clicked=True")
            assert _values(clicked, "name") == ["Ada Lovelace"]  # value is re-sent

            again = await session.rerun()  # a trigger fires once only
            assert not again.contains("button_clicked=True")
            assert _values(again, "clicks") == ["1"]

            other = await session.select_page("Other page")
            assert _values(other, "page") == ["other"]
            assert _values(other, "email") == [_email("solo@example.com")]
            assert (await session.rerun()).contains("page=other")  # stays on the page

            home = await session.select_page("Home")
            assert _values(home, "page") == ["home"]
            assert {r.session_id for r in session.history} == {session.session_id}

            with pytest.raises(LookupError):
                await session.click_button("No such button")

        # Opening a URL path directly (page_name) lands on that page.
        async with StreamlitSession(server, page_name="other", timeout=20) as direct:
            assert direct.last_result is not None
            assert _values(direct.last_result, "page") == ["other"]
            # Trusted header configured but absent -> st.user["email"] is None.
            assert _values(direct.last_result, "email") == [_email(None)]

    asyncio.run(asyncio.wait_for(scenario(), 60))
