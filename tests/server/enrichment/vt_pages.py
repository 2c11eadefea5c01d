"""A local VirusTotal v3 resolutions endpoint that pages its answer as the API documents it.

Each object has the shape of the documented example (``tests/fixtures/virustotal_v3_resolutions``:
``attributes.{date, host_name, ip_address, resolver}``, ``id``, ``links.self``, ``type``); each page has
``data``, ``links.{self, next}`` and ``meta.{count, cursor}``, and the last page has neither ``links.next`` nor
``meta.cursor`` (docs.virustotal.com, "Collections"). The cursor is the offset, as text. ``links.next`` names a
host that does not exist, so a client that follows it instead of the cursor fails the test.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

T0 = 1_600_000_000
KEY = "vt-test-key"


def resolution(subject: str, i: int, *, is_ip: bool = False) -> dict[str, Any]:
    """The ``i``-th resolution of a domain (addresses alternate IPv4/IPv6) or of an address (names vary)."""
    name = f"host{i}.resolves.example" if is_ip else subject
    address = subject if is_ip else (f"198.51.100.{i % 250}" if i % 2 else f"2001:db8::{i:x}")
    return {"attributes": {"date": T0 + i, "host_name": name, "ip_address": address, "resolver": "VirusTotal"},
            "id": f"{address}{name}", "links": {"self": f"https://www.virustotal.com/api/v3/resolutions/{address}{name}"},
            "type": "resolution"}


class PagedResolutions(http.server.BaseHTTPRequestHandler):
    """``total`` resolutions of any domain or address, ``limit`` a page; ``fail_at``: that page answers 429."""

    total: ClassVar[int] = 0
    fail_at: ClassVar[int] = 0
    host: ClassVar[str] = ""
    seen: ClassVar[list[dict[str, str]]] = []
    hosts: ClassVar[set[str]] = set()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        type(self).seen.append(query)
        type(self).hosts.add(self.headers.get("Host", ""))
        is_ip = url.path.startswith("/api/v3/ip_addresses/")
        subject = url.path.split("/")[-2]
        if self.headers.get("x-apikey") != KEY or not url.path.endswith("/resolutions"):
            return self._send(401, {"error": {"code": "WrongCredentialsError"}})
        start, size = int(query.get("cursor", "0")), int(query["limit"])
        if self.fail_at and start // 40 + 1 == self.fail_at:
            return self._send(429, {"error": {"code": "QuotaExceededError"}})
        end = min(start + size, self.total)
        page: dict[str, Any] = {"data": [resolution(subject, i, is_ip=is_ip) for i in range(start, end)],
                                "links": {"self": f"https://www.virustotal.com/api/v3{url.path}"}, "meta": {"count": self.total}}
        if end < self.total:
            page["links"]["next"] = f"https://vt.invalid/api/v3{url.path}?cursor={end}&limit={size}"
            page["meta"]["cursor"] = str(end)
        return self._send(200, page)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def paged_server() -> Iterator[tuple[str, type[PagedResolutions]]]:
    """The server's ``/api/v3`` base URL and its handler class (fresh state per use)."""
    handler = type("Pages", (PagedResolutions,), {"seen": [], "hosts": set(), "total": 0, "fail_at": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.host = f"127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{handler.host}/api/v3", handler
    finally:
        server.shutdown()
        server.server_close()
