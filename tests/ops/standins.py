"""Tiny stand-ins for the demo's processes, for the supervisor tests (`python -m tests.ops.standins ROLE ...`).

chain PORT DUMP [MB] answers JSON-RPC on PORT; on SIGINT writes DUMP (like anvil's state file) and exits; with MB
                     it holds MB of memory until its first dump exists (a reloaded chain is small again)
mining-chain PORT DUMP MB   the same, and it mines like anvil's interval miner: eth_blockNumber counts up every
                     0.05 s until evm_setIntervalMining [0]; its dump is a snapshot taken at SIGINT while the miner
                     goes on during the (0.5 s) dump, and it writes {"head": snapshot, "final_head": last mined}
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


class Miner:
    """The block counter of mining-chain (None: the plain chain, which answers 0x539 to everything)."""

    head: int | None = None
    mining = True


class Rpc(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        result: object = "0x539"
        if Miner.head is not None and request.get("method") == "evm_setIntervalMining":
            Miner.mining = bool(request["params"][0])
            result = None
        elif Miner.head is not None and request.get("method") == "eth_blockNumber":
            result = hex(Miner.head)
        elif Miner.head is not None and request.get("method") == "txpool_status":
            result = {"pending": "0x0", "queued": "0x0"}
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def chain(port: int, dump: Path, hold_mb: int = 0, mining: bool = False) -> None:
    ballast = bytearray(hold_mb * 1024 * 1024) if hold_mb and not dump.exists() else b""  # zero pages: resident
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    server = ThreadingHTTPServer(("127.0.0.1", port), Rpc)
    done = threading.Event()

    def on_int(*_: object) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_int)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # like anvil, only SIGINT makes it dump
    if mining:
        Miner.head = json.loads(dump.read_text())["head"] if dump.exists() else 0

        def mine() -> None:
            while True:
                time.sleep(0.05)
                if Miner.mining:
                    Miner.head += 1

        threading.Thread(target=mine, daemon=True).start()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    while not done.wait(0.1):
        pass
    snapshot = Miner.head
    time.sleep(0.5)  # the dump takes a moment (the miner does not wait for it)
    dump.write_text(json.dumps({"pid": os.getpid(), "head": snapshot, "final_head": Miner.head}))
    server.shutdown()


def main(argv: list[str]) -> None:
    role = argv[0]
    if role in ("chain", "mining-chain"):
        chain(int(argv[1]), Path(argv[2]), int(argv[3]) if len(argv) > 3 else 0, mining=role == "mining-chain")
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
