"""The Host header, checked before Flask sees the request (issue 15, item 6).

Flask binds its URL adapter to the Host header while it builds the request context, before any error handler
exists: a label over 63 characters made the IDNA encoding fail there, and `Host: a b` reached Sign-In with Ethereum
as its domain; both were 500s. A Host that is not `name[:port]` (letters, digits, '-', '_', labels of 1-63
characters, 253 in all), an IPv4 address or a bracketed IPv6 address, with a port of at most 65535, is a 400 here.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_HOST = re.compile(r"(?P<name>\[[0-9A-Fa-f:.]+\]|[^:\[\]]+)(?::(?P<port>[0-9]{1,5}))?")
MESSAGE = "The Host header is not a valid host name, IP address or port."


def valid_host(host: str) -> bool:
    match = _HOST.fullmatch(host)
    if match is None:
        return False
    port = match.group("port")
    if port is not None and int(port) > 65535:
        return False
    name = match.group("name")
    if name.startswith("["):
        try:
            ipaddress.IPv6Address(name[1:-1])
        except ValueError:
            return False
        return True
    return len(name) <= 253 and _NAME.fullmatch(name) is not None and not name.startswith("-")


class HostCheck:
    """WSGI middleware: a malformed Host header is answered 400 (JSON under /api/, text elsewhere)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST")
        if host is None or valid_host(host):
            return self.app(environ, start_response)
        if environ.get("PATH_INFO", "").startswith("/api/"):
            body = json.dumps({"error": {"code": "bad_host", "message": MESSAGE}}).encode()
            content_type = "application/json"
        else:
            body, content_type = MESSAGE.encode(), "text/plain; charset=utf-8"
        start_response("400 Bad Request", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]
