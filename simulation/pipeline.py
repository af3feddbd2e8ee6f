"""JSON-RPC calls pipelined on one HTTP/1.1 connection: all requests written at once, answers read in order.

anvil answers the calls of one JSON-RPC *batch* concurrently (their order is not kept), but it serves the requests
of one keep-alive connection one after another, so pipelined single calls execute in exactly the order written —
at about the speed of a batch (one round trip for the lot instead of one each).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse


class Pipeline:
    def __init__(self, url: str, timeout: float = 600.0) -> None:
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.timeout = timeout
        self._ids = 0

    def calls(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[dict[str, Any]]:
        """Each call's JSON-RPC response ({"result": …} or {"error": …}), in call order."""
        if not calls:
            return []
        out = bytearray()
        for method, params in calls:
            self._ids += 1
            body = json.dumps({"jsonrpc": "2.0", "id": self._ids, "method": method, "params": list(params)}).encode()
            out += (f"POST / HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode() + body  # fmt: skip
        with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
            sock.sendall(out)
            reader = sock.makefile("rb")
            return [self._response(reader) for _ in calls]

    @staticmethod
    def _response(reader: Any) -> dict[str, Any]:
        status = reader.readline()
        if not status.startswith(b"HTTP/1.1 200"):
            raise ConnectionError(f"unexpected HTTP answer {status!r}")
        length = None
        chunked = False
        while True:
            line = reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
            elif name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if chunked:
            body = bytearray()
            while True:
                size = int(reader.readline().strip(), 16)
                if size == 0:
                    reader.readline()
                    break
                body += reader.read(size)
                reader.readline()
            return json.loads(bytes(body))
        if length is None:
            raise ConnectionError("HTTP answer without a length")
        return json.loads(reader.read(length))
