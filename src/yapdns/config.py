"""Every setting YAPDNS reads from the environment: one table of name, default and help.

Settings come from environment variables only, so that secrets live outside
the code and outside the repository. ``docs/configuration.md`` documents each
one; a test fails when a setting is missing there.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from yapdns.core.errors import ConfigurationError
from yapdns.core.private import private_dir


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("YAPDNS_DATA_DIR", "./data", "Directory for the SQLite files, the generated secret key and logs."),
    Setting(
        "YAPDNS_DATABASE_URL",
        "",
        "Empty for the embedded SQLite default, or postgresql://user@host:port/db for PostgreSQL "
        "(Django's database: users, sensors, tokens; and the record store unless YAPDNS_STORE_URL is set).",
    ),
    Setting(
        "YAPDNS_STORE_URL",
        "",
        "The record store, when it is not YAPDNS_DATABASE_URL's database: clickhouse://user:password@host:port/db "
        "(a ClickHouse server), chdb:///dir?database=db (embedded ClickHouse), or a sqlite:/postgresql: URL. "
        "Empty: the records live in YAPDNS_DATABASE_URL's database.",
    ),
    Setting(
        "YAPDNS_SECRET_KEY",
        "",
        "Django's signing key. When empty, a random key is generated once and kept in "
        "<data dir>/secret_key (mode 0600).",
    ),
    Setting(
        "YAPDNS_ALLOWED_HOSTS",
        "",
        "Comma-separated host names the server answers to besides the ones it is configured for (localhost, "
        "127.0.0.1, [::1], the listen address, and this machine's names when it listens on all addresses); "
        "add the name clients use, e.g. pdns.example.org. A request for another host gets 400.",
    ),
    Setting(
        "YAPDNS_LISTEN_HOST",
        "127.0.0.1",
        "The address `yapdns serve` listens on (its --host overrides it, and sets it for the server).",
    ),
    Setting("YAPDNS_DEBUG", "false", "Django debug mode. Never enable it on a reachable server."),
    Setting(
        "YAPDNS_TLS",
        "auto",
        "Whether requests arrive over HTTPS: 'auto' (when --certfile is given), 'true' (behind a TLS proxy) "
        "or 'false'. Enables secure cookies and HSTS.",
    ),
    Setting(
        "YAPDNS_TRUSTED_PROXIES",
        "",
        "Comma-separated addresses of reverse proxies whose X-Forwarded-For names the client (for the login "
        "lock-out). Empty: the peer address is the client, and X-Forwarded-For is ignored.",
    ),
    Setting(
        "YAPDNS_METRICS_TOKEN",
        "",
        "Bearer token that GET /metrics requires (Prometheus: authorization.credentials). Empty: /metrics "
        "refuses every caller (403); use YAPDNS_METRICS_LISTEN instead.",
    ),
    Setting(
        "YAPDNS_METRICS_LISTEN",
        "",
        "host:port of a metrics-only listener that `yapdns serve` starts beside the app, e.g. 127.0.0.1:9464 "
        "(no token: bind it to loopback). Empty: none.",
    ),
    Setting(
        "YAPDNS_LOG_FORMAT",
        "plain",
        "Server log lines: 'plain' text, or 'json' (one object per line with request_id, sensor and batch_id, "
        "and one access line per request) for log pipelines.",
    ),
    Setting(
        "YAPDNS_SESSION_QUOTA_DAILY",
        "0",
        "Queries per UTC day each user may make with a dashboard session (search and other query pages, and "
        "the own API called from the browser); 0: unlimited. `yapdns quota user NAME` sets one user's own.",
    ),
    Setting(
        "YAPDNS_SESSION_QUOTA_BURST",
        "",
        "At most QUERIES per SECONDS for each user's dashboard session, e.g. 60/60. Empty: no burst limit.",
    ),
    Setting(
        "YAPDNS_RETENTION_DAYS",
        "0",
        "Retention for every backend: records, RRsets and sample links whose time_last is older than this many "
        "days are removed by `yapdns prune` (or its timer/job). 0 keeps everything.",
    ),
    Setting(
        "YAPDNS_RETENTION_NEGATIVE_DAYS",
        "",
        "Retention of negative answers and bare queries, in days (usually shorter). Empty: YAPDNS_RETENTION_DAYS; "
        "0 keeps them.",
    ),
    Setting(
        "YAPDNS_RETENTION_SAMPLE_DAYS",
        "",
        "Retention of records linked to a sandbox sample, in days (usually longer). Empty: YAPDNS_RETENTION_DAYS; "
        "0 keeps them.",
    ),
    Setting(
        "YAPDNS_RETENTION_RULES",
        "",
        "Own retention ages per RR type, sensor or evidence kind: comma-separated KIND:VALUE=DAYS, e.g. "
        "'type:TXT=7, sensor:lab=3, evidence:imported=365' (0: for ever). A record is kept while any provenance "
        "that saw it keeps it; negatives and bare queries are only ever shortened by a rule. Every backend. "
        "Empty: none.",
    ),
    Setting(
        "YAPDNS_MAX_INGEST_BYTES",
        "67108864",
        "Largest ingest request body accepted, in bytes, as sent (compressed); 413 beyond.",
    ),
    Setting(
        "YAPDNS_MAX_INGEST_DECOMPRESSED_BYTES",
        "134217728",
        "Largest ingest batch after gzip decompression, in bytes; 413 beyond.",
    ),
    Setting(
        "YAPDNS_MAX_INGEST_RECORDS",
        "100000",
        "Most records in one ingest batch: NDJSON lines (blank ones included) or JSON array items; 413 beyond. "
        "Keep it well above the agents' output.batch_size (5000 by default).",
    ),
    Setting("YAPDNS_BULK_MAX_QUERIES", "10000", "Most queries in one POST /api/v1/bulk request; 413 beyond."),
    Setting(
        "YAPDNS_BULK_MAX_ROWS",
        "100000",
        "Most rows one bulk request returns in total; the queries after that answer with an error line.",
    ),
    Setting(
        "YAPDNS_REQUEST_TIME_BUDGET",
        "30",
        "Seconds one ingest or bulk request may spend decoding or querying: an ingest batch over it is refused "
        "with 413 (nothing applied); bulk queries after it answer with an error line.",
    ),
    Setting("YAPDNS_REPLAY_WINDOW", "604800", "Seconds an applied batch id is remembered to drop replays."),
    Setting("YAPDNS_RESULTS_MAX", "1000000", "Most rows one query may return (DNSDB results_max)."),
    Setting("YAPDNS_OFFSET_MAX", "3000000", "Largest offset a query may use (DNSDB offset_max)."),
    Setting("YAPDNS_FLEX_TIME_BUDGET", "60", "Seconds a DNSDB Flex (regex/glob) scan may run (then: limited)."),
    Setting(
        "YAPDNS_CIRCL_MAX_ROWS",
        "10000",
        "Most lines a CIRCL pDNS answer without paging headers holds (then x-dribble-errors says it was cut).",
    ),
    Setting(
        "YAPDNS_SQLITE_CACHE_MB",
        "32",
        "SQLite page cache per connection, in MiB (each server thread has one, plus the writer). With the "
        "row-id cache it bounds the server's memory; see docs/performance.md, 'Memory'.",
    ),
    Setting(
        "YAPDNS_SQLITE_ROWID_CACHE",
        "200000",
        "Records whose row ids the SQLite writer remembers to update them by id (~430 bytes each); 0 turns it off.",
    ),
    Setting(
        "YAPDNS_LOGIN_FAILURE_LIMIT",
        "5",
        "Failed dashboard logins after which a username from one client address, or one client address, is "
        "locked out for the cool-off time.",
    ),
    Setting("YAPDNS_LOGIN_COOLOFF_SECONDS", "900", "How long a login lock-out lasts, in seconds."),
    Setting("YAPDNS_WORKER_HEARTBEAT", "10", "Seconds between a `yapdns worker`'s heartbeats and schedule checks."),
    Setting(
        "YAPDNS_WORKER_LEASE",
        "60",
        "Seconds without a heartbeat after which a worker counts as dead and its running jobs go back to the "
        "queue (keep it several heartbeats long).",
    ),
    Setting("YAPDNS_JOB_RESULT_DAYS", "7", "Days a successful background job's row is kept."),
    Setting("YAPDNS_JOB_FAILURE_DAYS", "30", "Days a failed background job attempt is kept, with its error."),
    Setting(
        "YAPDNS_GEOIP_BUILTIN",
        "true",
        "Enrich addresses with the built-in data (offline, no account): AS numbers and names from "
        "@ip-location-db/asn, countries from @ip-location-db/geo-whois-asn-country (installed by "
        "scripts/build-as-data.sh).",
    ),
    Setting(
        "YAPDNS_GEOIP_GEOIP2FAST",
        "false",
        "Also enrich with the MaxMind GeoLite2 data of 2024-06-18 inside the geoip2fast package (country, AS name, "
        "prefix). Off by default: GeoLite2's licence asks users to keep the data up to date and delete old "
        "versions, which a package frozen in 2024 cannot do.",
    ),
    Setting(
        "YAPDNS_UPSTREAM_DNSDB_KEY",
        "",
        "DNSDB API key: enables the DNSDB connector (ask upstream). Keep it out of the repository.",
    ),
    Setting(
        "YAPDNS_UPSTREAM_DNSDB_URL",
        "https://api.dnsdb.info",
        "DNSDB API server (the dnsdb2 client adds /dnsdb/v2/...).",
    ),
    Setting(
        "YAPDNS_UPSTREAM_CIRCL_USER",
        "",
        "CIRCL Passive DNS user name: enables the CIRCL connector.",
    ),
    Setting(
        "YAPDNS_UPSTREAM_CIRCL_PASSWORD",
        "",
        "CIRCL Passive DNS password.",
    ),
    Setting(
        "YAPDNS_UPSTREAM_CIRCL_URL",
        "https://www.circl.lu/pdns/query",
        "CIRCL Passive DNS query URL.",
    ),
    Setting(
        "YAPDNS_UPSTREAM_VT_KEY",
        "",
        "VirusTotal API key: enables the VirusTotal resolutions connector.",
    ),
    Setting(
        "YAPDNS_UPSTREAM_VT_URL",
        "https://www.virustotal.com/api/v3",
        "VirusTotal API v3 base URL.",
    ),
    Setting(
        "YAPDNS_UPSTREAM_ON_ALERT",
        "",
        "Connectors (comma-separated) that `yapdns worker` asks about each new watchlist alert: its address for an "
        "IP/CIDR entry, else its name; within the quota and cache. Empty: none.",
    ),
    Setting(
        "YAPDNS_UPSTREAM_CACHE_SECONDS",
        "86400",
        "Seconds an upstream answer is reused for the same connector and query instead of asking again.",
    ),
    Setting(
        "YAPDNS_UPSTREAM_DAILY_QUOTA",
        "dnsdb=500,circl=500,virustotal=500",
        "Requests per 24 hours this server may send to each connector (name=count, comma-separated); "
        "a connector not named gets none.",
    ),
    Setting(
        "YAPDNS_UPSTREAM_LIMIT",
        "1000",
        "Most rows asked of an upstream service per question (VirusTotal: read in pages of 40).",
    ),
    Setting(
        "YAPDNS_GEOIP_MMDB",
        "",
        "Comma-separated paths of MaxMind-format files (GeoLite2/GeoIP2 ASN or country, DB-IP, IPinfo) to enrich "
        "addresses with, preferred over the built-in data; each is reloaded when the file changes.",
    ),
    Setting(
        "YAPDNS_WATCHLIST_MATCHING",
        "true",
        "Match every accepted observation against the watchlists at ingest, after the write commits "
        "(docs/detection.md).",
    ),
    Setting(
        "YAPDNS_MATCH_FOLD_INTERVAL",
        "1",
        "Seconds between two folds of kept watchlist matches into alerts by each server process's folding "
        "thread (0: none; the worker's alert-delivery job folds them).",
    ),
    Setting(
        "YAPDNS_ALERT_FOLD_SECONDS",
        "3600",
        "Repeats of one (watchlist entry, record) within this many seconds fold into one alert.",
    ),
    Setting(
        "YAPDNS_ALERT_WEBHOOK_URL",
        "",
        "Deliver alerts as JSON POSTs to this URL (empty: no webhook).",
    ),
    Setting(
        "YAPDNS_ALERT_WEBHOOK_SECRET",
        "",
        "Key of the HMAC-SHA256 signature in the webhook's X-YAPDNS-Signature header.",
    ),
    Setting(
        "YAPDNS_ALERT_SYSLOG",
        "",
        "Deliver alerts as RFC 5424 syslog messages to udp://host:port or tcp://host:port (empty: none).",
    ),
    Setting(
        "YAPDNS_ALERT_SMTP",
        "",
        "Deliver alerts by mail through smtp://host:port (empty: none).",
    ),
    Setting(
        "YAPDNS_ALERT_EMAIL_FROM",
        "yapdns@localhost",
        "Sender address of alert mail.",
    ),
    Setting(
        "YAPDNS_ALERT_EMAIL_TO",
        "",
        "Comma-separated recipients of alert mail.",
    ),
)
_BY_NAME = {s.name: s for s in SETTINGS}
DATA_FILES = ("app.sqlite3", "store.sqlite3", "secret_key")  # in the data directory, owner-only (and -wal, -shm)


def get(name: str) -> str:
    """The value of setting ``name`` from the environment, or its default."""
    return os.environ.get(name, _BY_NAME[name].default)


def default(name: str) -> str:
    """The default of setting ``name`` (what applies when the environment does not set it)."""
    return _BY_NAME[name].default


_DIGITS = re.compile(r"[0-9]{1,9}")  # ASCII digits: "²".isdigit() is true and int("²") fails


def parse_rate(value: str, what: str) -> tuple[int, int] | None:
    """``QUERIES/SECONDS`` (e.g. ``10/60``) as a pair; None when blank; ConfigurationError naming ``what``."""
    if not value.strip():
        return None
    size, sep, window = value.strip().partition("/")
    if not (sep and _DIGITS.fullmatch(size) and _DIGITS.fullmatch(window) and int(window) > 0):
        raise ConfigurationError(f"{what} takes QUERIES/SECONDS, e.g. 10/60; got {value!r}")
    return int(size), int(window)


def get_int(name: str) -> int:
    value = get(name)
    try:
        return int(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {value!r}") from None


def get_bool(name: str) -> bool:
    return get(name).strip().lower() in ("1", "true", "yes", "on")


def data_dir() -> Path:
    path = Path(get("YAPDNS_DATA_DIR")).expanduser().resolve()
    return private_dir(path)


def allowed_hosts() -> list[str]:
    """The host names the server answers to: loopback, the listen address (or this machine's names when it
    listens on every address) and YAPDNS_ALLOWED_HOSTS; never ``*`` unless that setting says so."""
    hosts = ["localhost", "127.0.0.1", "[::1]"]
    listen = get("YAPDNS_LISTEN_HOST").strip().strip("[]")
    if listen in ("", "0.0.0.0", "::"):  # noqa: S104  # every address: this machine's names
        hosts += [socket.gethostname(), socket.getfqdn()]
    else:
        hosts.append(f"[{listen}]" if ":" in listen else listen)
    hosts += [h.strip() for h in get("YAPDNS_ALLOWED_HOSTS").split(",") if h.strip()]
    return list(dict.fromkeys(h for h in hosts if h))


def database_url() -> str:
    """The configured database URL; empty means embedded SQLite."""
    return get("YAPDNS_DATABASE_URL").strip()


def store_url() -> str:
    """The record store's URL: ``YAPDNS_STORE_URL``, else the database URL (empty: embedded SQLite)."""
    return get("YAPDNS_STORE_URL").strip() or database_url()


def secret_key() -> str:
    """The configured secret key, or the one generated and kept in the data directory."""
    configured = get("YAPDNS_SECRET_KEY")
    if configured:
        return configured
    path = data_dir() / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()
