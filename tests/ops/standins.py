"""Tiny stand-ins for the demo's processes, for the supervisor tests (`python -m tests.ops.standins ROLE ...`).

chain PORT DUMP [MB] answers JSON-RPC on PORT; on SIGINT writes DUMP (like anvil's state file) and exits; with MB
                     it holds MB of memory until its first dump exists (a reloaded chain is small again)
service [MARKER]     sleeps until SIGTERM; with MARKER, appends a line to it on every SIGCONT (it was paused)
stubborn             ignores SIGTERM and SIGINT and has a child in its process group that does the same
crash-once MARKER    exits with code 3 at once unless MARKER exists (then creates it first); later runs sleep
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Rpc(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": "0x539"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def chain(port: int, dump: Path, hold_mb: int = 0) -> None:
    ballast = bytearray(hold_mb * 1024 * 1024) if hold_mb and not dump.exists() else b""  # zero pages: resident
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    server = ThreadingHTTPServer(("127.0.0.1", port), Rpc)
    done = threading.Event()

    def on_int(*_: object) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_int)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # like anvil, only SIGINT makes it dump
    threading.Thread(target=server.serve_forever, daemon=True).start()
    while not done.wait(0.1):
        pass
    time.sleep(0.5)  # the dump takes a moment
    dump.write_text(json.dumps({"pid": os.getpid()}))
    server.shutdown()


def main(argv: list[str]) -> None:
    role = argv[0]
    if role == "chain":
        chain(int(argv[1]), Path(argv[2]), int(argv[3]) if len(argv) > 3 else 0)
    elif role == "service":
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        if len(argv) > 1:
            marker = Path(argv[1])
            signal.signal(signal.SIGCONT, lambda *_: marker.open("a").write("continued\n"))
        while True:
            time.sleep(1)
    elif role == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        code = "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
        subprocess.Popen([sys.executable, "-c", code])
        while True:
            time.sleep(1)
    elif role == "crash-once":
        marker = Path(argv[1])
        if not marker.exists():
            marker.write_text("crashed once")
            sys.exit(3)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            time.sleep(1)


if __name__ == "__main__":
    main(sys.argv[1:])
