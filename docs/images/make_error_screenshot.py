"""Re-create ``docs/images/error-reference.png``: a failed click as a production app shows it.

Writes a small invoices page to a scratch folder under /tmp, runs it for real on 127.0.0.1 with
``client.showErrorDetails = false`` (Streamlit's generic error, as production apps run), clicks its
button in Chromium, and screenshots the page: the error, and under it the interaction's reference.
Then prints what support gets from that reference: ``st-logs trace`` over the run's log folder.

Needs what ``make_screenshot.py`` (beside this file) needs. From the repository root::

    .venv/bin/python docs/images/make_error_screenshot.py [--port 8598] [--out docs/images/error-reference.png]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from make_screenshot import CHROMIUM_ARGS, HOST, ROOT, TIMEOUT_MS, start_server, stop_server, wait_idle
from playwright.sync_api import expect, sync_playwright

APP = '''\
import streamlit as st
from streamlit_extension import correlation_logger, init_streamlit_logging

init_streamlit_logging()

RATES = {"ACME": 0.2}

st.title("Invoices")
client = st.selectbox("Client", ["ACME", "INITECH"], index=1)
if st.button("Compute totals"):
    with correlation_logger.track_operation("compute_totals", {"client_key": client}):
        st.metric("Total", 1200 * (1 + RATES[client]))
'''
REFERENCE = re.compile(r"req_[0-9a-f]{12}")


def take(port: int, out: Path) -> str:
    """Screenshot the failed click's page; returns the reference it shows."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                    headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1200, "height": 700}, device_scale_factor=1).new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"http://{HOST}:{port}")
            page.get_by_role("button", name="Compute totals").click()
            wait_idle(page)
            note = page.get_by_text("Reference:")
            expect(note).to_be_visible()
            found = REFERENCE.search(note.inner_text())
            if found is None:
                raise RuntimeError(f"no reference in {note.inner_text()!r}")
            main = page.get_by_test_id("stMainBlockContainer").bounding_box()
            top = page.get_by_role("heading", name="Invoices").bounding_box()
            bottom = note.bounding_box()
            clip = {"x": main["x"], "y": top["y"] - 16, "width": main["width"],
                    "height": bottom["y"] + bottom["height"] - top["y"] + 40}
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), clip=clip)
            return found.group(0)
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8598)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "error-reference.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="error_reference_shot_") as scratch:
        app = Path(scratch) / "invoices.py"
        app.write_text(APP)
        server = start_server(Path(scratch), args.port, app, "--client.showErrorDetails", "false")
        try:
            reference = take(args.port, args.out)
        finally:
            stop_server(server)
        print(f"wrote {args.out}; the page shows {reference}; what support sees:\n")
        subprocess.run([sys.executable, "-m", "streamlit_extension.logs", "trace", reference,
                        str(Path(scratch) / "logs")], check=True)


if __name__ == "__main__":
    main()
