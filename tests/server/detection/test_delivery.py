"""Alert delivery to real receivers started here: an HTTP server (webhook, HMAC-checked), syslog listeners
over UDP and TCP (RFC 5424), and aiosmtpd (SMTP); a receiver that is down gets the alert once it is back."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import socket
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from django.utils import timezone

from yapdns.server.detection import delivery, services
from yapdns.server.detection.matching import Hit
from yapdns.server.detection.models import AlertDelivery, WatchlistEntry

RFC5424 = re.compile(rb"^<132>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ yapdns - alert - (\{.*\})$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Webhook:
    """A local HTTP server that keeps what is POSTed to it."""

    def __init__(self, port: int = 0) -> None:
        received = self.received = []  # type: list[tuple[Any, bytes]]

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.headers, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Syslog:
    """UDP and TCP syslog listeners (TCP frames by octet counting) that keep each message."""

    def __init__(self) -> None:
        messages = self.messages = []  # type: list[bytes]

        class Udp(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                messages.append(self.request[0])

        class Tcp(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                data = self.rfile.read()
                length, _, rest = data.partition(b" ")
                assert len(rest) == int(length)
                messages.append(rest)

        self.udp = socketserver.UDPServer(("127.0.0.1", 0), Udp)
        self.tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Tcp)
        for server in (self.udp, self.tcp):
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def close(self) -> None:
        for server in (self.udp, self.tcp):
            server.shutdown()
            server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    server = Webhook()
    yield server
    server.close()


@pytest.fixture
def syslog() -> Iterator[Syslog]:
    server = Syslog()
    yield server
    server.close()


@pytest.fixture
def smtp() -> Iterator[Controller]:
    controller = Controller(Sink(), hostname="127.0.0.1", port=free_port())
    controller.handler = Mailbox()
    controller.start()
    yield controller
    controller.stop()


class Mailbox:
    def __init__(self) -> None:
        self.mails: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(envelope)
        return "250 OK"


def raise_alert(rrname: str = "c2.evil.example", channels: delivery.Channels | None = None) -> None:
    entry = WatchlistEntry.objects.create(kind="name", value="*.evil.example", label="C2", tlp="amber")
    hit = Hit(entry.pk, rrname, "A", "203.0.113.5", "dc1/bind", 1_700_000_000, 1_700_000_060, 4)
    assert len(services.record_hits([hit], channels=channels)) == 1


def test_webhook_gets_signed_json(db: None, webhook: Webhook) -> None:
    channels = delivery.Channels(webhook_url=webhook.url, webhook_secret="s3cret")
    raise_alert(channels=channels)
    assert delivery.deliver_pending(channels) == (1, 0)
    headers, body = webhook.received[0]
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-YAPDNS-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["record"] == {"rrname": "c2.evil.example", "rrtype": "A", "rdata": "203.0.113.5"}
    assert payload["entry"]["value"] == "*.evil.example" and payload["sensor"] == "dc1/bind" and payload["tlp"] == "amber"
    assert (payload["time_first"], payload["time_last"], payload["count"]) == (1_700_000_000, 1_700_000_060, 4)
    assert delivery.deliver_pending(channels) == (0, 0)  # delivered once


@pytest.mark.parametrize("scheme", ["udp", "tcp"])
def test_syslog_gets_rfc5424(db: None, syslog: Syslog, scheme: str) -> None:
    server = syslog.udp if scheme == "udp" else syslog.tcp
    channels = delivery.Channels(syslog=f"{scheme}://127.0.0.1:{server.server_address[1]}")
    raise_alert(channels=channels)
    assert delivery.deliver_pending(channels) == (1, 0)
    for _ in range(100):
        if syslog.messages:
            break
        threading.Event().wait(0.02)
    match = RFC5424.match(syslog.messages[0])
    assert match, syslog.messages[0]
    assert json.loads(match.group(1))["record"]["rrname"] == "c2.evil.example"


def test_smtp_gets_a_mail(db: None, smtp: Controller) -> None:
    channels = delivery.Channels(smtp=f"smtp://127.0.0.1:{smtp.port}", email_to=("soc@example.org",))
    raise_alert(channels=channels)
    assert delivery.deliver_pending(channels) == (1, 0)
    mail = smtp.handler.mails[0]
    assert mail.rcpt_tos == ["soc@example.org"]
    text = mail.content.decode()
    assert "Subject: [YAPDNS alert] *.evil.example matched c2.evil.example A" in text and "203.0.113.5" in text


def test_a_receiver_that_is_down_gets_the_alert_later(db: None) -> None:
    port = free_port()
    channels = delivery.Channels(webhook_url=f"http://127.0.0.1:{port}/hook")
    raise_alert(channels=channels)
    assert delivery.deliver_pending(channels) == (0, 1)
    pending = AlertDelivery.objects.get()
    assert pending.sent_at is None and pending.attempts == 1 and "Error" in pending.last_error
    assert delivery.deliver_pending(channels) == (0, 0)  # not due yet: back-off
    server = Webhook(port)
    try:
        later = timezone.now() + dt.timedelta(minutes=1)
        assert delivery.deliver_pending(channels, now=later) == (1, 0)
        assert len(server.received) == 1 and AlertDelivery.objects.get().sent_at is not None
    finally:
        server.close()


def test_a_delivery_is_claimed_once_and_freed_when_its_runner_dies(db: None, webhook: Webhook) -> None:
    channels = delivery.Channels(webhook_url=webhook.url)
    raise_alert(channels=channels)
    mine, theirs = AlertDelivery.objects.get(), AlertDelivery.objects.get()  # two runners read the same due row
    now = timezone.now()
    assert delivery.claim(mine, now) and not delivery.claim(theirs, now)
    assert delivery.deliver_pending(channels) == (0, 0)  # claimed: nobody else sends it now
    # the claiming runner died before sending: the delivery is due again once the lease ends
    assert delivery.deliver_pending(channels, now=now + delivery.CLAIM_LEASE) == (1, 0)
    assert len(webhook.received) == 1
