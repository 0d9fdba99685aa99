"""Drive a real ``streamlit run`` server from pytest, over Streamlit's websocket protocol.

Nothing here is mocked: :class:`StreamlitServer` starts ``python -m streamlit run``
in a subprocess bound to ``127.0.0.1`` and :class:`StreamlitSession` talks to it the
way the browser frontend does, over ``ws://127.0.0.1:<port>/_stcore/stream``.

Protocol summary (verified against streamlit 1.67, Starlette/uvicorn server):

* The websocket is opened with subprotocol ``streamlit``. The browser abuses the
  ``Sec-WebSocket-Protocol`` list as ``streamlit, <xsrf token>, <session id to
  resume>``; only the first entry is needed. No ``Origin`` header is sent, so
  Streamlit's origin/XSRF checks are skipped (XSRF only gates the auth cookie).
* Connecting creates the session but runs nothing and sends nothing. The client
  must send a ``BackMsg`` with ``rerun_script`` (a ``ClientState``) to run the
  script; the browser does that immediately on connect ("page load").
* Every script run starts with a ``ForwardMsg.new_session`` (which carries
  ``initialize.session_id``), then ``delta`` messages (elements addressed by
  ``metadata.delta_path``), ``navigation`` for ``st.navigation`` apps, and ends
  with ``script_finished``. ``FINISHED_EARLY_FOR_RERUN`` is followed by another
  run (``st.rerun()`` or a superseding request), so a "run" here is the whole
  chain up to a terminal status.
* HTTP headers of the websocket handshake become ``st.context.headers`` of that
  session, and headers named in ``server.trustedUserHeaders`` become ``st.user``
  keys (first value wins; a configured header that is absent maps to ``None``).
* Widgets: ``ClientState.widget_states`` carries ``WidgetState(id=..., <value>)``.
  Buttons use ``trigger_value=True`` (one-shot), text inputs ``string_value``.
  Like the browser, the session re-sends the last value of every non-trigger
  widget on each rerun; ids come from the previous run's elements.
* Pages: ``ClientState.page_script_hash`` selects a page; ``page_name`` is the
  URL path segment (``st.Page(url_path=...)``, matched against ``url_pathname``,
  not the title) and is only used when no hash is given. The session re-sends
  the current page's hash on every rerun, like the browser does.
* Server->client message dedup (``ref_hash``) only happens for hashes the client
  lists in ``ClientState.cached_message_hashes``; we list none, so every message
  arrives complete.

Limitations: no forms special-casing (use :meth:`StreamlitSession.stage_widget_value`
and then click the submit button), fragment reruns only by id (``rerun(fragment_id=...)``,
the ``fragment_id`` of the fragment's deltas), no file uploads. After a
timeout a session's message stream may still contain the late run, so discard it.

Typical use::

    with StreamlitServer("app.py") as server:
        transcripts = run_sessions(server, 8, [step_rerun(), step_click_button("Go")])

    async def scenario(server: StreamlitServer) -> None:
        async with StreamlitSession(server, headers={"X-Request-ID": "r1"}) as session:
            result = await session.set_text_input("Name", "Ada")
            assert result.contains("Ada")
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Final

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

__all__ = [
    "TRUSTED_USER_HEADERS",
    "Interaction",
    "PageRef",
    "RenderedElement",
    "RunResult",
    "SessionTranscript",
    "StreamlitProtocolError",
    "StreamlitServer",
    "StreamlitServerError",
    "StreamlitSession",
    "WidgetValue",
    "run_sessions",
    "run_sessions_async",
    "step_click_button",
    "step_rerun",
    "step_select_page",
    "step_set_text_input",
    "trusted_user_header_args",
]

LOOPBACK: Final = "127.0.0.1"
HEALTH_PATH: Final = "/_stcore/health"
STREAM_PATH: Final = "/_stcore/stream"

#: Statuses of ``ForwardMsg.script_finished`` that end a run chain.
_TERMINAL_STATUSES: Final = frozenset(
    {
        ForwardMsg.FINISHED_SUCCESSFULLY,
        ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
        ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
    }
)
#: Bounds for one :meth:`StreamlitSession.rerun` call (besides its timeout).
_MAX_MESSAGES_PER_RUN: Final = 20_000
_MAX_RUNS_PER_CHAIN: Final = 50
#: Element kind -> attribute of the sub-message holding its visible text.
_TEXT_FIELDS: Final[Mapping[str, str]] = {
    "markdown": "body",
    "text": "body",
    "heading": "body",
    "alert": "body",
    "code": "code_text",
    "json": "body",
    "exception": "message",
}

#: A Python value for :meth:`StreamlitSession.rerun` widget states. ``bool`` ->
#: ``bool_value`` (checkbox/toggle), ``int`` -> ``int_value``, ``float`` ->
#: ``double_value``, ``str`` -> ``string_value``; pass a ``WidgetState`` for anything else.
WidgetValue = bool | int | float | str | WidgetState


def _has_config_option(name: str) -> bool:
    from streamlit import config

    try:
        config.get_option(name)
    except Exception:  # "Config key not defined" on releases without it
        return False
    return True


#: Does this Streamlit map trusted proxy headers to ``st.user`` (``server.trustedUserHeaders``)?
#: Older releases refuse the option on the command line, and their users are anonymous unless
#: the app says otherwise.
TRUSTED_USER_HEADERS: Final = _has_config_option("server.trustedUserHeaders")


def trusted_user_header_args(mapping: Mapping[str, str]) -> tuple[str, ...]:
    """``--server.trustedUserHeaders`` for ``mapping`` where this Streamlit has it, else ()."""
    import json

    return ("--server.trustedUserHeaders", json.dumps(mapping)) if TRUSTED_USER_HEADERS else ()


class StreamlitServerError(RuntimeError):
    """The Streamlit subprocess failed to start or died."""


class StreamlitProtocolError(RuntimeError):
    """The websocket conversation did not go as the protocol says it should."""


# --------------------------------------------------------------------------- server


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


# Never route loopback traffic through an HTTP(S)_PROXY from the environment.
_DIRECT_OPENER: Final = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class StreamlitServer:
    """A real ``streamlit run APP`` subprocess on a free loopback port.

    Use as a context manager (or call :meth:`start` / :meth:`stop`). The process's
    stdout and stderr go to ``stdout.log`` / ``stderr.log`` in :attr:`log_dir`, which
    is handy when a test fails (:meth:`logs`).

    Parameters
    ----------
    app_path:
        The Streamlit script to run.
    env:
        Extra environment variables, layered over ``os.environ``.
    extra_args:
        Extra CLI arguments appended after the defaults, e.g.
        ``("--server.trustedUserHeaders", '{"X-Forwarded-Email": "email"}')``.
    cwd:
        Working directory of the server (Streamlit reads ``.streamlit/`` from it).
        Defaults to the app's directory.
    startup_timeout:
        Seconds to wait for ``/_stcore/health`` to answer 200.
    python:
        Interpreter to use; defaults to ``sys.executable``.
    log_dir:
        Where to write the logs; defaults to a fresh temporary directory.
    """

    def __init__(
        self,
        app_path: str | os.PathLike[str],
        *,
        env: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
        cwd: str | os.PathLike[str] | None = None,
        startup_timeout: float = 60.0,
        python: str | None = None,
        log_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.app_path: Final = Path(app_path).resolve()
        if not self.app_path.is_file():
            raise FileNotFoundError(self.app_path)
        self.env: Final[dict[str, str]] = dict(env or {})
        self.extra_args: Final[tuple[str, ...]] = tuple(extra_args)
        self.cwd: Final = Path(cwd).resolve() if cwd is not None else self.app_path.parent
        self.startup_timeout: Final = startup_timeout
        self.python: Final = python or sys.executable
        self.log_dir: Final = Path(
            log_dir if log_dir is not None else tempfile.mkdtemp(prefix="streamlit-server-")
        )
        self.stdout_path: Final = self.log_dir / "stdout.log"
        self.stderr_path: Final = self.log_dir / "stderr.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._port: int | None = None

    # ---- addresses

    @property
    def port(self) -> int:
        """The TCP port the server listens on (only valid once started)."""
        if self._port is None:
            raise StreamlitServerError("server not started")
        return self._port

    @property
    def url(self) -> str:
        """Base HTTP URL, e.g. ``http://127.0.0.1:8501``."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def ws_url(self) -> str:
        """The websocket endpoint the frontend uses."""
        return f"ws://{LOOPBACK}:{self.port}{STREAM_PATH}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def command(self, port: int) -> list[str]:
        """The full command line used to start the server on ``port``."""
        return [
            self.python,
            "-m",
            "streamlit",
            "run",
            str(self.app_path),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            LOOPBACK,
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
            *self.extra_args,
        ]

    # ---- lifecycle

    def start(self) -> StreamlitServer:
        """Start the subprocess and block until it is healthy.

        Retries (at most 3 attempts) only if the chosen port was taken in the
        meantime; any other early exit raises :class:`StreamlitServerError`.
        """
        if self._proc is not None:
            raise StreamlitServerError("server already started")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        for attempt in range(3):
            port = _free_loopback_port()
            with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
                self._proc = subprocess.Popen(
                    self.command(port),
                    cwd=self.cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                )
            self._port = port
            try:
                self._wait_healthy()
                return self
            except StreamlitServerError:
                port_taken = "is not available" in self.logs()
                self.stop()
                if not port_taken or attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        proc = self._proc
        assert proc is not None
        while time.monotonic() < deadline:
            code = proc.poll()
            if code is not None:
                raise StreamlitServerError(
                    f"streamlit exited with code {code} during startup\n{self.logs()}"
                )
            if self.health(timeout=1.0):
                return
            time.sleep(0.1)
        raise StreamlitServerError(
            f"streamlit not healthy after {self.startup_timeout}s\n{self.logs()}"
        )

    def health(self, timeout: float = 2.0) -> bool:
        """True if ``GET /_stcore/health`` answers 200 right now."""
        if self._port is None:
            return False
        try:
            with _DIRECT_OPENER.open(self.url + HEALTH_PATH, timeout=timeout) as resp:
                return int(resp.status) == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self, timeout: float = 10.0) -> int | None:
        """Terminate (SIGTERM), then kill after ``timeout`` seconds. Returns the exit code."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
        return proc.returncode

    def logs(self, max_chars: int = 20_000) -> str:
        """The tail of the captured stdout and stderr, for error messages."""
        parts = []
        for path in (self.stdout_path, self.stderr_path):
            try:
                text = path.read_text(errors="replace")
            except FileNotFoundError:
                text = ""
            parts.append(f"--- {path.name} ---\n{text[-max_chars:]}")
        return "\n".join(parts)

    def __enter__(self) -> StreamlitServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        port = self._port if self._port is not None else "-"
        return f"StreamlitServer(app={self.app_path.name!r}, port={port}, pid={self.pid})"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class RenderedElement:
    """One element of the rendered page: its ``delta_path``, oneof kind and proto."""

    path: tuple[int, ...]
    kind: str
    proto: Element

    @property
    def body(self) -> object:
        """The kind-specific sub-message, e.g. ``Button`` for ``kind == "button"``."""
        return getattr(self.proto, self.kind)

    @property
    def widget_id(self) -> str | None:
        """The widget id, for widgets (elements whose sub-message has an ``id``)."""
        value = getattr(self.body, "id", None)
        return value if isinstance(value, str) and value else None

    @property
    def label(self) -> str | None:
        value = getattr(self.body, "label", None)
        return value if isinstance(value, str) else None

    @property
    def text(self) -> str | None:
        """The visible text of text-like elements (markdown, text, heading, ...)."""
        attr = _TEXT_FIELDS.get(self.kind)
        if attr is None:
            return None
        value = getattr(self.body, attr)
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class PageRef:
    """A page of an ``st.navigation`` (or ``pages/``) app."""

    page_script_hash: str
    title: str
    url_pathname: str
    is_default: bool


@dataclass(frozen=True)
class RunResult:
    """What one run chain (request -> terminal ``script_finished``) produced."""

    status: str
    """Name of the terminal ``ScriptFinishedStatus``, e.g. ``FINISHED_SUCCESSFULLY``."""
    session_id: str
    page_script_hash: str
    """The page that ran (from ``navigation`` if present, else ``new_session``)."""
    elements: tuple[RenderedElement, ...]
    """Final elements of the last run in the chain, in document order."""
    pages: tuple[PageRef, ...]
    runs: int
    """Number of script runs in the chain (>1 after ``st.rerun()``)."""
    page_not_found: bool
    compile_error: str | None
    messages: tuple[ForwardMsg, ...]
    """Every ForwardMsg received from the first ``new_session`` on."""
    elapsed: float

    @property
    def ok(self) -> bool:
        return self.status == "FINISHED_SUCCESSFULLY" and not self.exceptions

    @property
    def texts(self) -> list[str]:
        return [el.text for el in self.elements if el.text is not None]

    @property
    def text(self) -> str:
        """All visible texts joined by newlines."""
        return "\n".join(self.texts)

    @property
    def exceptions(self) -> list[str]:
        """``Type: message`` of every exception element (uncaught app errors)."""
        return [
            f"{el.proto.exception.type}: {el.proto.exception.message}"
            for el in self.elements
            if el.kind == "exception"
        ]

    def contains(self, needle: str) -> bool:
        """True if any visible text contains ``needle``."""
        return any(needle in text for text in self.texts)

    def widgets(self, kind: str | None = None) -> list[RenderedElement]:
        return [
            el
            for el in self.elements
            if el.widget_id is not None and (kind is None or el.kind == kind)
        ]

    def find_widget(self, label: str, kind: str | Iterable[str] | None = None) -> RenderedElement:
        """The unique widget with this exact label (and kind); ``LookupError`` otherwise."""
        kinds = {kind} if isinstance(kind, str) else (set(kind) if kind is not None else None)
        candidates = [w for w in self.widgets() if kinds is None or w.kind in kinds]
        matches = [w for w in candidates if w.label == label]
        if len(matches) != 1:
            seen = sorted({f"{w.kind}:{w.label!r}" for w in candidates})
            what = "no" if not matches else f"{len(matches)}"
            raise LookupError(f"{what} widget labelled {label!r} (kind={kind}); have {seen}")
        return matches[0]


# --------------------------------------------------------------------------- session


def _to_widget_state(widget_id: str, value: WidgetValue) -> WidgetState:
    if isinstance(value, WidgetState):
        state = WidgetState()
        state.CopyFrom(value)
        state.id = widget_id
        return state
    if isinstance(value, bool):  # before int: bool is an int
        return WidgetState(id=widget_id, bool_value=value)
    if isinstance(value, int):
        return WidgetState(id=widget_id, int_value=value)
    if isinstance(value, float):
        return WidgetState(id=widget_id, double_value=value)
    if isinstance(value, str):
        return WidgetState(id=widget_id, string_value=value)
    raise TypeError(f"unsupported widget value {value!r}; pass a WidgetState")


class StreamlitSession:
    """One browser tab: an async context manager over one websocket connection.

    On entry it connects and (unless ``initial_run=False``) performs the page-load
    run the browser does, so :attr:`session_id` and :attr:`last_result` are set.

    Parameters
    ----------
    server:
        A started :class:`StreamlitServer`, or a ``ws://`` URL of ``/_stcore/stream``.
    headers:
        Extra handshake headers (they become ``st.context.headers`` / ``st.user``).
    query_string:
        Sent as ``ClientState.query_string`` (``st.query_params``), without ``?``.
    page_name:
        URL path of the page to open on the first run (``st.Page(url_path=...)``),
        as if the browser had opened ``http://host/<page_name>``.
    timeout:
        Default timeout, in seconds, for connecting and for each run chain.
    """

    def __init__(
        self,
        server: StreamlitServer | str,
        *,
        headers: Mapping[str, str] | None = None,
        query_string: str = "",
        page_name: str = "",
        initial_run: bool = True,
        timeout: float = 30.0,
    ) -> None:
        self.ws_url: Final = server if isinstance(server, str) else server.ws_url
        self.headers: Final[dict[str, str]] = dict(headers or {})
        self.query_string = query_string
        self.timeout = timeout
        self._initial_page_name = page_name
        self._initial_run = initial_run
        self._ws: ClientConnection | None = None
        self._session_id: str | None = None
        self._page_script_hash = ""
        self._pages: tuple[PageRef, ...] = ()
        self._widget_values: dict[str, WidgetState] = {}
        self.last_result: RunResult | None = None
        self.history: list[RunResult] = []

    @property
    def session_id(self) -> str:
        """The server-side session id (known after the first run)."""
        if self._session_id is None:
            raise StreamlitProtocolError("no run yet, so the session id is unknown")
        return self._session_id

    @property
    def page_script_hash(self) -> str:
        return self._page_script_hash

    @property
    def pages(self) -> tuple[PageRef, ...]:
        return self._pages

    # ---- connection

    async def connect(self) -> None:
        if self._ws is not None:
            raise StreamlitProtocolError("already connected")
        self._ws = await connect(
            self.ws_url,
            subprotocols=[Subprotocol("streamlit")],
            additional_headers=list(self.headers.items()),
            compression=None,
            max_size=None,  # deltas can exceed websockets' 1 MiB default
            proxy=None,  # loopback only; ignore any HTTP(S)_PROXY
            open_timeout=self.timeout,
            close_timeout=5,
        )
        if self._ws.subprotocol != "streamlit":
            raise StreamlitProtocolError(f"server chose subprotocol {self._ws.subprotocol!r}")

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()

    async def __aenter__(self) -> StreamlitSession:
        await self.connect()
        try:
            if self._initial_run:
                await self.rerun(page_name=self._initial_page_name or None)
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ---- interactions

    def stage_widget_value(self, widget_id: str, value: WidgetValue) -> None:
        """Remember a widget value to send with the next rerun (and later ones)."""
        self._widget_values[widget_id] = _to_widget_state(widget_id, value)

    async def rerun(
        self,
        *,
        widget_states: Mapping[str, WidgetValue] | None = None,
        triggers: Iterable[str] = (),
        page_script_hash: str | None = None,
        page_name: str | None = None,
        query_string: str | None = None,
        fragment_id: str | None = None,
        timeout: float | None = None,
    ) -> RunResult:
        """Send ``rerun_script`` and wait for the run chain to finish.

        ``widget_states`` (widget id -> value) are remembered and re-sent on later
        reruns, like the browser does; ``triggers`` are widget ids sent once with
        ``trigger_value=True`` (button clicks). Without ``page_script_hash`` or
        ``page_name`` the current page is rerun. With ``fragment_id`` only that
        fragment reruns, and the result holds only its elements.
        """
        ws = self._require_ws()
        for widget_id, value in (widget_states or {}).items():
            self.stage_widget_value(widget_id, value)
        if query_string is not None:
            self.query_string = query_string

        state = ClientState(query_string=self.query_string)
        if fragment_id is not None:
            state.fragment_id = fragment_id
        if page_script_hash is not None:
            state.page_script_hash = page_script_hash
        elif page_name is not None:
            state.page_name = page_name
        else:
            state.page_script_hash = self._page_script_hash
        trigger_ids = list(dict.fromkeys(triggers))
        state.widget_states.widgets.extend(
            s for wid, s in self._widget_values.items() if wid not in trigger_ids
        )
        state.widget_states.widgets.extend(
            WidgetState(id=wid, trigger_value=True) for wid in trigger_ids
        )
        if "context_info" in ClientState.DESCRIPTOR.fields_by_name:  # 1.43+: what st.context reads
            info = state.context_info
            for name, value in (("timezone", "UTC"), ("timezone_offset", 0), ("locale", "en-US"),
                                ("url", self.ws_url.replace("ws://", "http://", 1).removesuffix(STREAM_PATH) + "/"),
                                ("is_embedded", False)):
                if name in info.DESCRIPTOR.fields_by_name:
                    setattr(info, name, value)

        msg = BackMsg()
        msg.rerun_script.CopyFrom(state)
        await ws.send(msg.SerializeToString())
        result = await self._collect_run(ws, self.timeout if timeout is None else timeout)

        self._session_id = result.session_id
        self._page_script_hash = result.page_script_hash
        if result.pages:
            self._pages = result.pages
        if result.status == "FINISHED_SUCCESSFULLY":
            # The browser forgets the state of widgets that are no longer rendered.
            rendered = {w.widget_id for w in result.widgets()}
            self._widget_values = {k: v for k, v in self._widget_values.items() if k in rendered}
        self.last_result = result
        self.history.append(result)
        return result

    async def click_button(self, label: str, *, timeout: float | None = None) -> RunResult:
        """Click the ``st.button`` (or form submit button) with this label."""
        button = self._last().find_widget(label, kind="button")
        assert button.widget_id is not None
        return await self.rerun(triggers=[button.widget_id], timeout=timeout)

    async def set_text_input(
        self, label: str, value: str, *, timeout: float | None = None
    ) -> RunResult:
        """Type ``value`` into the ``st.text_input``/``st.text_area`` with this label and rerun."""
        widget = self._last().find_widget(label, kind=("text_input", "text_area"))
        assert widget.widget_id is not None
        return await self.rerun(widget_states={widget.widget_id: value}, timeout=timeout)

    async def select_page(self, page: str, *, timeout: float | None = None) -> RunResult:
        """Switch to a page given by title, url path or page script hash.

        Pages come from the last ``navigation`` message. Note that Streamlit reports
        the *default* page with an empty ``url_pathname`` (whatever its ``url_path``),
        so select it by title or hash.
        """
        for ref in self._pages:
            if page in (ref.title, ref.url_pathname, ref.page_script_hash):
                return await self.rerun(page_script_hash=ref.page_script_hash, timeout=timeout)
        known = [(p.title, p.url_pathname) for p in self._pages]
        raise LookupError(f"no page {page!r}; known pages (title, url_path): {known}")

    # ---- internals

    def _require_ws(self) -> ClientConnection:
        if self._ws is None:
            raise StreamlitProtocolError("not connected")
        return self._ws

    def _last(self) -> RunResult:
        if self.last_result is None:
            raise StreamlitProtocolError("no run yet; call rerun() first")
        return self.last_result

    async def _collect_run(self, ws: ClientConnection, timeout: float) -> RunResult:
        loop = asyncio.get_running_loop()
        started_at = loop.time()
        deadline = started_at + timeout
        runs = 0
        session_id = ""
        page_hash = ""
        pages: tuple[PageRef, ...] = ()
        page_not_found = False
        compile_error: str | None = None
        elements: dict[tuple[int, ...], RenderedElement] = {}
        messages: list[ForwardMsg] = []

        for _ in range(_MAX_MESSAGES_PER_RUN):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"run not finished after {timeout}s ({runs} runs, {len(messages)} messages)"
                )
            try:
                raw = await asyncio.wait_for(ws.recv(), remaining)
            except asyncio.TimeoutError:
                raise TimeoutError(
                    f"run not finished after {timeout}s ({runs} runs, {len(messages)} messages)"
                ) from None
            except ConnectionClosed as exc:
                raise StreamlitProtocolError(f"websocket closed mid-run: {exc}") from exc
            if isinstance(raw, str):
                raise StreamlitProtocolError("server sent a text frame")
            fmsg = ForwardMsg.FromString(raw)
            kind = fmsg.WhichOneof("type")

            if kind == "new_session":
                runs += 1
                if runs > _MAX_RUNS_PER_CHAIN:
                    raise StreamlitProtocolError(f"more than {_MAX_RUNS_PER_CHAIN} chained runs")
                new = fmsg.new_session
                session_id = new.initialize.session_id
                page_hash = new.page_script_hash
                if new.app_pages:
                    pages = tuple(
                        PageRef(p.page_script_hash, p.page_name, p.url_pathname, p.is_default)
                        for p in new.app_pages
                    )
                elements.clear()
                page_not_found = False
                compile_error = None
                messages.append(fmsg)
                continue
            if runs == 0:
                continue  # leftovers (e.g. session_status_changed) of an earlier run
            messages.append(fmsg)

            if kind == "delta":
                path = tuple(fmsg.metadata.delta_path)
                # Whatever was at this path (and beneath it) is replaced.
                for old in [p for p in elements if p[: len(path)] == path]:
                    del elements[old]
                delta_kind = fmsg.delta.WhichOneof("type")
                if delta_kind == "new_element":
                    element = fmsg.delta.new_element
                    el_kind = element.WhichOneof("type")
                    if el_kind is not None:
                        elements[path] = RenderedElement(path, el_kind, element)
            elif kind == "navigation":
                nav = fmsg.navigation
                pages = tuple(
                    PageRef(p.page_script_hash, p.page_name, p.url_pathname, p.is_default)
                    for p in nav.app_pages
                )
                page_hash = nav.page_script_hash or page_hash
            elif kind == "page_not_found":
                page_not_found = True
            elif kind == "session_event":
                event = fmsg.session_event
                if event.HasField("script_compilation_exception"):
                    exc_proto = event.script_compilation_exception
                    compile_error = f"{exc_proto.type}: {exc_proto.message}"
            elif kind == "script_finished":
                status = fmsg.script_finished
                if status not in _TERMINAL_STATUSES:
                    continue  # FINISHED_EARLY_FOR_RERUN: another run follows
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR and compile_error is None:
                    compile_error = await self._read_compile_error(ws, deadline, messages)
                return RunResult(
                    status=ForwardMsg.ScriptFinishedStatus.Name(status),
                    session_id=session_id,
                    page_script_hash=page_hash,
                    elements=tuple(elements[p] for p in sorted(elements)),
                    pages=pages,
                    runs=runs,
                    page_not_found=page_not_found,
                    compile_error=compile_error,
                    messages=tuple(messages),
                    elapsed=loop.time() - started_at,
                )
        raise StreamlitProtocolError(f"more than {_MAX_MESSAGES_PER_RUN} messages in one run")

    @staticmethod
    async def _read_compile_error(
        ws: ClientConnection, deadline: float, messages: list[ForwardMsg]
    ) -> str | None:
        """The compile-error ``session_event`` is sent right *after* ``script_finished``."""
        loop = asyncio.get_running_loop()
        for _ in range(10):
            remaining = min(deadline - loop.time(), 2.0)
            if remaining <= 0:
                return None
            try:
                raw = await asyncio.wait_for(ws.recv(), remaining)
            except (asyncio.TimeoutError, ConnectionClosed):
                return None
            if isinstance(raw, str):
                return None
            fmsg = ForwardMsg.FromString(raw)
            messages.append(fmsg)
            if fmsg.WhichOneof("type") == "session_event" and fmsg.session_event.HasField(
                "script_compilation_exception"
            ):
                exc_proto = fmsg.session_event.script_compilation_exception
                return f"{exc_proto.type}: {exc_proto.message}"
        return None

    def __repr__(self) -> str:
        return f"StreamlitSession(url={self.ws_url!r}, session_id={self._session_id!r})"


# --------------------------------------------------------------------------- many sessions

#: One step of a scripted session, e.g. ``step_click_button("Go")``.
Interaction = Callable[[StreamlitSession], Awaitable[RunResult]]


def step_rerun() -> Interaction:
    """A plain rerun (like pressing "R")."""

    async def _step(session: StreamlitSession) -> RunResult:
        return await session.rerun()

    return _step


def step_click_button(label: str) -> Interaction:
    async def _step(session: StreamlitSession) -> RunResult:
        return await session.click_button(label)

    return _step


def step_set_text_input(label: str, value: str) -> Interaction:
    async def _step(session: StreamlitSession) -> RunResult:
        return await session.set_text_input(label, value)

    return _step


def step_select_page(page: str) -> Interaction:
    async def _step(session: StreamlitSession) -> RunResult:
        return await session.select_page(page)

    return _step


@dataclass
class SessionTranscript:
    """What one of the concurrent sessions of :func:`run_sessions` did."""

    index: int
    headers: dict[str, str]
    session_id: str
    results: list[RunResult] = field(default_factory=list)
    """``results[0]`` is the page-load run, then one result per interaction."""
    elapsed: float = 0.0


InteractionsSpec = int | Sequence[Interaction] | Callable[[int], Sequence[Interaction]]


def _interactions_for(spec: InteractionsSpec, index: int) -> Sequence[Interaction]:
    if isinstance(spec, int):
        return [step_rerun() for _ in range(spec)]
    if callable(spec):
        return spec(index)
    return spec


async def run_sessions_async(
    server: StreamlitServer | str,
    n: int,
    interactions_per_session: InteractionsSpec = 1,
    headers_fn: Callable[[int], Mapping[str, str]] | None = None,
    *,
    run_timeout: float = 30.0,
    total_timeout: float = 120.0,
) -> list[SessionTranscript]:
    """Run ``n`` sessions concurrently (``asyncio.gather``); see :func:`run_sessions`."""

    async def one(index: int) -> SessionTranscript:
        headers = dict(headers_fn(index)) if headers_fn is not None else {}
        steps = _interactions_for(interactions_per_session, index)
        t0 = time.perf_counter()
        async with StreamlitSession(server, headers=headers, timeout=run_timeout) as session:
            assert session.last_result is not None
            transcript = SessionTranscript(index, headers, session.session_id, [session.last_result])
            for step in steps:
                transcript.results.append(await step(session))
        transcript.elapsed = time.perf_counter() - t0
        return transcript

    return list(
        await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), total_timeout)
    )


def run_sessions(
    server: StreamlitServer | str,
    n: int,
    interactions_per_session: InteractionsSpec = 1,
    headers_fn: Callable[[int], Mapping[str, str]] | None = None,
    *,
    run_timeout: float = 30.0,
    total_timeout: float = 120.0,
) -> list[SessionTranscript]:
    """Synchronously run ``n`` concurrent sessions against ``server``.

    Each session connects with ``headers_fn(index)`` as handshake headers, does the
    page-load run, then performs ``interactions_per_session``: an ``int`` k means k
    plain reruns; a sequence of :data:`Interaction` steps is run in order; a callable
    ``index -> steps`` gives each session its own steps. Returns transcripts ordered
    by index. Must not be called from a running event loop (use
    :func:`run_sessions_async` there).
    """
    return asyncio.run(
        run_sessions_async(
            server,
            n,
            interactions_per_session,
            headers_fn,
            run_timeout=run_timeout,
            total_timeout=total_timeout,
        )
    )
