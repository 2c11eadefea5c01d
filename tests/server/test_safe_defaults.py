"""Safe by default (issue 13, §4): private data files, the hosts answered, 405 for unserved methods, JSON 404s
under /api/, ``yapdns check --deploy``, and what YAPDNS_TLS=true turns on."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.server.test_security import ROUTES
from yapdns import config
from yapdns.core.private import exposed, private_file
from yapdns.storage.base import Store
from yapdns.storage.sqlite.store import SqliteStore

YAPDNS = [sys.executable, "-m", "yapdns"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run(args: list[str], data: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("YAPDNS_", "DJANGO_"))}
    environ.update(YAPDNS_DATA_DIR=str(data), **env)
    return subprocess.run(
        [*YAPDNS, *args], check=False, env=environ, capture_output=True, text=True, timeout=120, preexec_fn=lambda: os.umask(0o022)
    )


# -- files ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory made by `yapdns migrate` under the usual umask 022."""
    data = tmp_path_factory.mktemp("fresh") / "data"
    result = run(["migrate"], data)
    assert result.returncode == 0, result.stderr
    return data


def test_migrate_creates_the_data_directory_and_its_databases_owner_only(migrated: Path) -> None:
    assert mode(migrated) == 0o700
    for name in ("app.sqlite3", "store.sqlite3", "secret_key"):
        assert mode(migrated / name) == 0o600, name
    assert not exposed(migrated, config.DATA_FILES)


def test_sqlite_wal_and_shm_files_take_the_databases_mode(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "d" / "store.sqlite3")
    try:
        store.migrate()
        conn = sqlite3.connect(private_file(tmp_path / "d" / "app.sqlite3"))
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
        for name in ("store.sqlite3", "store.sqlite3-wal", "store.sqlite3-shm", "app.sqlite3-wal", "app.sqlite3-shm"):
            assert mode(tmp_path / "d" / name) == 0o600, name
        conn.close()
    finally:
        store.close()
    assert mode(tmp_path / "d") == 0o700


def test_exposed_files_are_named(tmp_path: Path) -> None:
    (tmp_path / "app.sqlite3").write_text("")
    (tmp_path / "app.sqlite3").chmod(0o644)
    tmp_path.chmod(0o700)
    assert exposed(tmp_path, config.DATA_FILES) == [f"{tmp_path / 'app.sqlite3'} (mode 0644)"]


# -- hosts ------------------------------------------------------------------------------------------


def test_allowed_hosts_are_the_configured_ones_never_a_wildcard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YAPDNS_ALLOWED_HOSTS", raising=False)
    monkeypatch.delenv("YAPDNS_LISTEN_HOST", raising=False)
    assert config.allowed_hosts() == ["localhost", "127.0.0.1", "[::1]"]
    monkeypatch.setenv("YAPDNS_LISTEN_HOST", "192.0.2.7")
    monkeypatch.setenv("YAPDNS_ALLOWED_HOSTS", "pdns.example.org, ")
    assert config.allowed_hosts() == ["localhost", "127.0.0.1", "[::1]", "192.0.2.7", "pdns.example.org"]
    monkeypatch.setenv("YAPDNS_LISTEN_HOST", "::")
    assert "*" not in config.allowed_hosts() and len(config.allowed_hosts()) > 3  # this machine's names


def test_a_request_for_another_host_is_refused(client: Client, store: Store) -> None:
    assert client.get("/api/v1/health", HTTP_HOST="evil.example").status_code == 400
    assert client.get("/api/v1/health", HTTP_HOST="localhost").status_code == 200


# -- methods and 404 --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ROUTES)
def test_every_route_answers_405_with_allow_to_methods_it_does_not_serve(client: Client, store: Store, url: str) -> None:
    for method in ("TRACE", "PUT", "DELETE", "PATCH", "OPTIONS"):
        reply = client.generic(method, url)
        assert reply.status_code == 405, (method, url, reply.status_code)
        allowed = {m.strip() for m in reply["Allow"].split(",")}
        assert allowed and method not in allowed and allowed <= {"GET", "HEAD", "POST"}
    for method in allowed:
        assert client.generic(method, url).status_code != 405, (method, url)


def test_unknown_api_urls_answer_a_json_404(client: Client, store: Store) -> None:
    for url in ("/api/v1/nope", "/api/v2/records", "/api/"):
        reply = client.get(url)
        assert reply.status_code == 404 and reply["Content-Type"] == "application/json", url
        assert "no API endpoint" in reply.json()["error"]
    assert client.get("/no-such-page").status_code == 404


# -- deployment checks and TLS ---------------------------------------------------------------------


def test_check_deploy_is_clean_in_a_production_configuration(migrated: Path) -> None:
    result = run(["check", "--deploy"], migrated, YAPDNS_TLS="true", YAPDNS_ALLOWED_HOSTS="pdns.example.org")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_names_each_unsafe_setting(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(["migrate"], data).returncode == 0
    data.chmod(0o755)
    (data / "app.sqlite3").chmod(0o644)
    result = run(["check", "--deploy"], data, YAPDNS_ALLOWED_HOSTS="*", YAPDNS_DEBUG="true", YAPDNS_SECRET_KEY="short")
    assert result.returncode == 1
    for issue in ("yapdns.W010", "yapdns.W011", "yapdns.W012", "security.W018", "security.W009", "security.W012"):
        assert issue in result.stderr, issue
    assert "app.sqlite3 (mode 0644)" in result.stderr


TLS_PROBE = """
import django, json
django.setup()
from django.test import Client
reply = Client().get("/login/", HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="localhost")
cookie = reply.cookies["csrftoken"]
print(json.dumps({"status": reply.status_code, "hsts": reply.get("Strict-Transport-Security"),
                  "secure": bool(cookie["secure"]), "httponly": bool(cookie["httponly"])}))
from django.conf import settings
print(json.dumps([settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, list(settings.SECURE_PROXY_SSL_HEADER or [])]))
"""


@pytest.mark.parametrize("tls", ["true", "false"])
def test_yapdns_tls_gives_secure_cookies_hsts_and_the_proxy_header(tmp_path: Path, tls: str) -> None:
    import json

    environ = {k: v for k, v in os.environ.items() if not k.startswith(("YAPDNS_", "DJANGO_"))}
    environ.update(YAPDNS_DATA_DIR=str(tmp_path), YAPDNS_TLS=tls, DJANGO_SETTINGS_MODULE="yapdns.server.settings")
    result = subprocess.run([sys.executable, "-c", TLS_PROBE], check=False, env=environ, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    reply, flags = (json.loads(line) for line in result.stdout.splitlines())
    assert reply["status"] == 200 and reply["httponly"]
    if tls == "true":
        assert reply["hsts"] == "max-age=31536000; includeSubDomains" and reply["secure"]
        assert flags == [True, True, ["HTTP_X_FORWARDED_PROTO", "https"]]
    else:
        assert reply["hsts"] is None and not reply["secure"] and flags == [False, False, []]
