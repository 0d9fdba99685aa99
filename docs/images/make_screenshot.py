"""Re-create ``docs/images/log_explorer_default.png``: the Log Explorer's default view.

Starts the demo app for real on 127.0.0.1 (in a scratch folder under /tmp, so neither the data nor
the logs land in the repository), has two people click through it in two Chromium browsers at
once (alice and bob create clients; bob's last click repeats a key and is refused), opens the Log
Explorer as it first appears, and screenshots its records table and the default interaction's
timeline: no web-server lines, and the refused click visibly refused.

Needs the ``playwright`` Python package and a Chromium (Debian's ``/usr/bin/chromium`` by default;
set ``CHROMIUM`` to use another). From the repository root::

    .venv/bin/python docs/images/make_screenshot.py [--port 8597] [--out docs/images/log_explorer_default.png]

The server is stopped when the script ends, whatever happens.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "streamlit_extension" / "app.py"
HOST = "127.0.0.1"  # never anything else
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 30_000


def start_server(scratch: Path, port: int, app: Path = APP, *extra_args: str) -> subprocess.Popen:
    env = dict(os.environ, LOG_FILE=str(scratch / "logs" / "app.jsonl"), DEMO_DB_PATH=str(scratch / "data" / "app.db"),
               LOG_CONSOLE="0", STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", LOG_EXPLORER_USERS="localhost")
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
               "--server.port", str(port), "--server.address", HOST, *extra_args]
    server = subprocess.Popen(command, cwd=scratch, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise RuntimeError("streamlit did not answer on /_stcore/health within 60 s")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)  # its own session: only the server and its children
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def wait_idle(page: Page) -> None:
    """Until the script run the last action started has finished."""
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)


def choose(page: Page, label: str, option: str, search: str | None = None) -> None:
    """Pick the option containing ``option`` in the selectbox labelled ``label``."""
    box = page.get_by_label(label, exact=True)
    for _ in range(3):  # a rerun landing meanwhile closes the list: open it again
        box.click()
        if search:
            box.fill(search)  # st.selectbox filters its options as you type
        target = page.get_by_role("option").filter(has_text=option).first
        try:
            target.click(timeout=5_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            wait_idle(page)
    else:
        raise RuntimeError(f"no option {option!r} in {label!r}")
    wait_idle(page)
    page.evaluate("document.activeElement && document.activeElement.blur()")  # no focus ring in the picture


def create_client(page: Page, key: str, name: str, email: str) -> None:
    page.get_by_label("Client key", exact=True).fill(key)
    page.get_by_label("Name", exact=True).first.fill(name)
    page.get_by_label("E-mail", exact=True).first.fill(email)
    page.get_by_role("button", name="Create client").click()
    wait_idle(page)


def person(browser, base: str, user: str, clients: list[tuple[str, str, str]]) -> Page:
    """One person in a browser of their own: sign in, create clients, one after the other."""
    page = browser.new_context(viewport={"width": 1400, "height": 1100}, device_scale_factor=1).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(base)  # the default page, Clients, lives at /
    expect(page.get_by_role("button", name="Create client")).to_be_visible()
    wait_idle(page)
    choose(page, "Sign in as…", user)
    for key, name, email in clients:
        create_client(page, key, name, email)
    return page


def take(port: int, out: Path) -> None:
    base = f"http://{HOST}:{port}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                    headless=True, args=CHROMIUM_ARGS)
        page = None
        try:
            alice = person(browser, base, "alice", [("ACME", "Acme Corp", "ops@acme.example"),
                                                    ("INITECH", "Initech", "hello@initech.example")])
            expect(alice.get_by_text("Client INITECH created.")).to_be_visible()
            bob = person(browser, base, "bob", [("GLOBEX", "Globex", "it@globex.example"),
                                                ("ACME", "Acme Impostor", "fake@acme.example")])  # refused
            expect(bob.get_by_text("A client with key 'ACME' already exists.")).to_be_visible()

            page = bob  # the Explorer as it first appears: the newest interaction is the refused click
            page.get_by_test_id("stSidebarNav").get_by_role("link", name="Log Explorer").click()
            expect(page.get_by_role("heading", name="Log Explorer")).to_be_visible()
            wait_idle(page)
            records = page.get_by_role("heading", name="Records")
            chart = page.get_by_test_id("stVegaLiteChart").first
            expect(chart.locator("canvas, svg").first).to_be_visible()
            records.evaluate("element => element.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(1000)  # let Vega finish drawing
            top = records.bounding_box()
            bottom = chart.bounding_box()
            main = page.get_by_test_id("stMainBlockContainer").bounding_box()
            clip = {"x": main["x"], "y": top["y"] - 12, "width": main["width"],
                    "height": bottom["y"] + bottom["height"] - top["y"] + 24}
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), clip=clip)
        except Exception:
            if page is not None:
                page.screenshot(path="/tmp/lx_shot_failure.png")
            raise
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8597)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "log_explorer_default.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="log_explorer_shot_") as scratch:
        server = start_server(Path(scratch), args.port)
        try:
            take(args.port, args.out)
        finally:
            stop_server(server)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
