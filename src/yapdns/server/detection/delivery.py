"""Alert delivery: a webhook (JSON signed with HMAC-SHA256), syslog (RFC 5424 over UDP or TCP) and SMTP.

Delivery runs from an outbox (``AlertDelivery`` rows, one per alert and
configured channel, written with the alert): ``deliver_pending`` sends what
is due, marks what the receiver took, and schedules a retry with back-off
(``RETRY_BASE`` doubling up to ``RETRY_MAX``) for what failed, so a
receiver that is down gets every alert once it is back, none lost. A
receiver that took an alert but whose acknowledgement was lost may get it
twice (at least once); the alert's ``id`` tells repeats apart.

Each delivery is **claimed** before it is sent: one conditional ``UPDATE``
moves its ``next_attempt_at`` to the end of a lease (``CLAIM_LEASE``) where it
still holds the value this runner read, so of two runners (a worker and a
``yapdns detection jobs`` loop, or two loops) that read the same due row, one
claims and sends it and the other skips it. A runner that dies holding a
claim leaves the delivery due again when the lease ends.

* webhook: ``POST`` of the alert's JSON, header ``X-YAPDNS-Signature:
  sha256=<hex HMAC of the body with YAPDNS_ALERT_WEBHOOK_SECRET>``; any 2xx
  is taken;
* syslog: RFC 5424, facility local0 (16), severity warning (4), app-name
  ``yapdns``, msgid ``alert``, the JSON as message; TCP frames use octet
  counting (RFC 6587);
* SMTP: a plain-text mail with the JSON, to ``YAPDNS_ALERT_EMAIL_TO``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import smtplib
import socket
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from django.utils import timezone

from yapdns import config
from yapdns.server.detection.models import Alert, AlertDelivery

TIMEOUT = 5.0
RETRY_BASE = dt.timedelta(seconds=10)
RETRY_MAX = dt.timedelta(hours=1)
BATCH = 200
CLAIM_LEASE = dt.timedelta(minutes=5)  # far above a send's timeouts: a live claim never expires mid-send
SYSLOG_PRI = 16 * 8 + 4  # local0.warning


@dataclass(frozen=True)
class Channels:
    """Where alerts go, from the ``YAPDNS_ALERT_*`` settings."""

    webhook_url: str = ""
    webhook_secret: str = ""
    syslog: str = ""
    smtp: str = ""
    email_from: str = "yapdns@localhost"
    email_to: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls) -> Channels:
        to = tuple(a.strip() for a in config.get("YAPDNS_ALERT_EMAIL_TO").split(",") if a.strip())
        return cls(
            config.get("YAPDNS_ALERT_WEBHOOK_URL"),
            config.get("YAPDNS_ALERT_WEBHOOK_SECRET"),
            config.get("YAPDNS_ALERT_SYSLOG"),
            config.get("YAPDNS_ALERT_SMTP"),
            config.get("YAPDNS_ALERT_EMAIL_FROM"),
            to,
        )

    def names(self) -> list[str]:
        """The configured channels."""
        wanted = {"webhook": self.webhook_url, "syslog": self.syslog, "smtp": self.smtp and self.email_to}
        return [name for name, on in wanted.items() if on]


def alert_json(alert: Alert) -> dict[str, Any]:
    """What every channel sends: the matched record, the entry, the sensor and the times."""
    entry = alert.entry
    return {
        "id": alert.pk,
        "origin": alert.origin,
        "record": {"rrname": alert.rrname, "rrtype": alert.rrtype, "rdata": alert.rdata},
        "sensor": alert.sensor,
        "time_first": alert.time_first,
        "time_last": alert.time_last,
        "count": alert.count,
        "matches": alert.matches,
        "entry": {"id": entry.pk, "kind": entry.kind, "value": entry.value, "label": entry.label},
        "tlp": entry.tlp or None,
        "alerted_at": alert.created_at.isoformat(),
    }


def sign(body: bytes, secret: str) -> str:
    """The webhook signature header value of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(channels: Channels, payload: dict[str, Any]) -> None:
    body = json.dumps(payload, sort_keys=True).encode()
    request = urllib.request.Request(channels.webhook_url, data=body, method="POST")  # noqa: S310 (configured URL)
    request.add_header("Content-Type", "application/json")
    if channels.webhook_secret:
        request.add_header("X-YAPDNS-Signature", sign(body, channels.webhook_secret))
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
        if not 200 <= response.status < 300:
            raise OSError(f"the webhook answered {response.status}")


def syslog_message(payload: dict[str, Any], now: dt.datetime | None = None) -> bytes:
    """One RFC 5424 message: ``<PRI>1 TIMESTAMP HOSTNAME yapdns - alert - MSG``."""
    stamp = (now or timezone.now()).astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    host = socket.gethostname().split(".")[0] or "-"
    return f"<{SYSLOG_PRI}>1 {stamp} {host} yapdns - alert - ".encode() + json.dumps(payload, sort_keys=True).encode()


def send_syslog(channels: Channels, payload: dict[str, Any]) -> None:
    target = urlsplit(channels.syslog)
    host, port = target.hostname or "127.0.0.1", target.port or 514
    message = syslog_message(payload)
    if target.scheme == "tcp":
        with socket.create_connection((host, port), timeout=TIMEOUT) as conn:
            conn.sendall(f"{len(message)} ".encode() + message)
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(message, (host, port))


def send_mail(channels: Channels, payload: dict[str, Any]) -> None:
    target = urlsplit(channels.smtp)
    mail = EmailMessage()
    mail["From"] = channels.email_from
    mail["To"] = ", ".join(channels.email_to)
    record = payload["record"]
    mail["Subject"] = f"[YAPDNS alert] {payload['entry']['value']} matched {record['rrname']} {record['rrtype']}"[:200]
    mail.set_content(json.dumps(payload, indent=2, sort_keys=True))
    with smtplib.SMTP(target.hostname or "127.0.0.1", target.port or 25, timeout=TIMEOUT) as smtp:
        smtp.send_message(mail)


SENDERS: dict[str, Callable[[Channels, dict[str, Any]], None]] = {
    "webhook": send_webhook,
    "syslog": send_syslog,
    "smtp": send_mail,
}


def queue(alert: Alert, channels: Channels) -> None:
    """Put a new alert in the outbox of every configured channel."""
    now = timezone.now()
    AlertDelivery.objects.bulk_create(
        [AlertDelivery(alert=alert, channel=c, next_attempt_at=now) for c in channels.names()], ignore_conflicts=True
    )


def deliver_pending(channels: Channels | None = None, now: dt.datetime | None = None) -> tuple[int, int]:
    """Send every due delivery; return (sent, failed). Failures are retried later with back-off."""
    channels = channels or Channels.from_settings()
    now = now or timezone.now()
    due = AlertDelivery.objects.select_related("alert__entry").filter(sent_at__isnull=True, next_attempt_at__lte=now)
    sent = failed = 0
    for delivery in due.order_by("next_attempt_at", "id")[:BATCH]:
        if not claim(delivery, now):
            continue
        try:
            SENDERS[delivery.channel](channels, alert_json(delivery.alert))
        except (OSError, smtplib.SMTPException, ValueError, KeyError) as exc:
            failed += 1
            _retry_later(delivery, now, exc)
            continue
        sent += 1
        delivery.sent_at, delivery.attempts = timezone.now(), delivery.attempts + 1
        delivery.save(update_fields=["sent_at", "attempts"])
    return sent, failed


def claim(delivery: AlertDelivery, now: dt.datetime) -> bool:
    """Take ``delivery`` for this runner (False: another runner took or sent it since it was read)."""
    lease = now + CLAIM_LEASE
    taken = AlertDelivery.objects.filter(
        pk=delivery.pk, sent_at__isnull=True, next_attempt_at=delivery.next_attempt_at
    ).update(next_attempt_at=lease)
    if taken:
        delivery.next_attempt_at = lease
    return taken == 1


def _retry_later(delivery: AlertDelivery, now: dt.datetime, exc: Exception) -> None:
    delivery.attempts += 1
    delivery.next_attempt_at = now + min(RETRY_BASE * 2 ** min(delivery.attempts - 1, 20), RETRY_MAX)
    delivery.last_error = f"{type(exc).__name__}: {exc}"[:500]
    delivery.save(update_fields=["attempts", "next_attempt_at", "last_error"])
