"""A local OTLP/HTTP endpoint for the benchmark: accepts every export, keeps nothing.

Run by ``run.py`` in its own process, so its work is not billed to the configuration measured.
Prints its URL on the first line.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Discard(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", 0), Discard)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
