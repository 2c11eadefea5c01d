"""deploy/nginx/yapdns.conf with Debian's real nginx: TLS from a CA made here, in front of `yapdns serve`.

The agent ships through nginx over verified HTTPS, the dashboard logs in
through it with Secure cookies and HSTS, and the login throttle counts the
real client: the address nginx saw (``X-Forwarded-For``, believed because
nginx is in ``YAPDNS_TRUSTED_PROXIES``), never an address the client wrote
in its own ``X-Forwarded-For``. Clients connect from several loopback
addresses (127.0.0.5, ...) so that they are told apart.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.agent.live import agent_config, run_once
from tests.conftest import ROOT
from tests.live import LiveServer, free_port

SITE = ROOT / "deploy" / "nginx" / "yapdns.conf"
LIMIT = 3


@dataclass
class Proxied:
    server: LiveServer
    https: str
    http: str
    ca: Path
    tmp: Path


def make_ca_and_certificate(tmp: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate it signed for 127.0.0.1 and localhost (openssl)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tmp)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=YAPDNS test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout", "ca.key", "-out", "ca.pem")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key",
            "-out", "server.csr")
    (tmp / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "1", "-extfile", "ext.cnf", "-out", "server.pem")
    return tmp / "ca.pem", tmp / "server.pem", tmp / "server.key"


def site_config(backend: int, http: int, https: int, cert: Path, key: Path) -> str:
    """The shipped site, with this test's ports and certificate (IPv4 loopback only)."""
    text = SITE.read_text()
    replacements = {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{backend};",
        "listen 80;": f"listen 127.0.0.1:{http};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https} ssl http2;",
        "/etc/ssl/yapdns/fullchain.pem": str(cert),
        "/etc/ssl/yapdns/privkey.pem": str(key),
    }
    for old, new in replacements.items():
        assert old in text, f"{SITE.name} no longer has {old!r}: update this test"
        text = text.replace(old, new)
    return "\n".join(line for line in text.splitlines() if "listen [::]" not in line)


def nginx_config(tmp: Path) -> Path:
    """A minimal nginx.conf around the site, with every path under ``tmp``."""
    temp = "\n".join(f"  {kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"{user}daemon off;\npid {tmp / 'nginx.pid'};\nerror_log {tmp / 'error.log'} info;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n  include /etc/nginx/mime.types;\n  access_log {tmp / 'access.log'};\n{temp}\n"
        f"  include {tmp / 'site.conf'};\n}}\n"
    )
    return conf


def wait_for(url: str, verify: ssl.SSLContext, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            httpx.get(url, verify=verify, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"nginx did not answer: {log.read_text()}")


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.fail("nginx is missing: run scripts/test-deps")
    tmp = tmp_path_factory.mktemp("nginx")
    ca, cert, key = make_ca_and_certificate(tmp)
    env = {"YAPDNS_TLS": "true", "YAPDNS_TRUSTED_PROXIES": "127.0.0.1,::1",
           "YAPDNS_LOGIN_FAILURE_LIMIT": str(LIMIT), "YAPDNS_LOG_FORMAT": "json"}
    with LiveServer(tmp / "data", extra_env=env) as server:
        http, https = free_port(), free_port()
        (tmp / "site.conf").write_text(site_config(server.port, http, https, cert, key))
        conf = nginx_config(tmp)
        check = subprocess.run([nginx, "-t", "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")],
                               capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stderr
        proc = subprocess.Popen([nginx, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")])
        try:
            wait_for(f"https://127.0.0.1:{https}/api/v1/health", ssl.create_default_context(cafile=ca), proc,
                     tmp / "error.log")
            yield Proxied(server, f"https://127.0.0.1:{https}", f"http://127.0.0.1:{http}", ca, tmp)
        finally:
            proc.terminate()
            proc.wait(10)


def client(p: Proxied, source: str = "127.0.0.1") -> httpx.Client:
    transport = httpx.HTTPTransport(verify=ssl.create_default_context(cafile=p.ca), local_address=source)
    return httpx.Client(base_url=p.https, transport=transport, timeout=10)


def test_plain_http_is_sent_to_https(proxied: Proxied) -> None:
    reply = httpx.get(proxied.http + "/login/?next=/", timeout=5)
    assert reply.status_code == 301
    assert reply.headers["Location"].startswith("https://") and reply.headers["Location"].endswith("/login/?next=/")


def test_the_agent_ships_through_nginx_over_verified_tls(proxied: Proxied, tmp_path: Path) -> None:
    log = tmp_path / "dns.cof"
    log.write_text('{"rrname": "via-nginx.example.org", "rrtype": "A", "rdata": "198.51.100.80", '
                   '"time_first": 1700000000, "time_last": 1700000050, "count": 4}\n')
    config = agent_config(tmp_path / "agent.yml", proxied.https, proxied.server.sensor_token("edge"),
                          [{"id": "cof", "format": "cof", "paths": [str(log)]}], output={"ca_file": str(proxied.ca)})
    done = run_once("-c", str(config), timeout=120)
    assert done.returncode == 0, done.stderr
    token = proxied.server.query_token()
    with client(proxied) as http:
        reply = http.get("/api/v1/records", params={"q": "via-nginx.example.org"},
                         headers={"Authorization": f"Bearer {token}"})
    assert [(r["rdata"], r["count"]) for r in reply.json()["records"]] == [("198.51.100.80", 4)]
    assert reply.headers["Strict-Transport-Security"].startswith("max-age=")
    assert reply.headers["X-Request-Id"]  # nginx's $request_id, carried through to the app's answer


def login(http: httpx.Client, username: str, password: str) -> httpx.Response:
    form = http.get("/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert csrf, form.text[:300]
    return http.post("/login/", data={"username": username, "password": password,
                                      "csrfmiddlewaretoken": csrf.group(1)},
                     headers={"Origin": str(http.base_url).rstrip("/"), "X-Forwarded-For": "203.0.113.9"})


def test_the_dashboard_logs_in_through_nginx_with_secure_cookies_and_hsts(proxied: Proxied) -> None:
    proxied.server.add_user("operator", "admin", "a long enough password 1")
    with client(proxied, "127.0.0.9") as http:
        page = http.get("/login/")
        assert "Secure" in page.headers["Set-Cookie"] and "HttpOnly" in page.headers["Set-Cookie"]
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        reply = login(http, "operator", "a long enough password 1")
        assert reply.status_code == 302, reply.text[:500]
        session = [c for c in reply.headers.get_list("Set-Cookie") if c.startswith("sessionid=")]
        assert session and "Secure" in session[0] and "HttpOnly" in session[0]
        overview = http.get("/")
        assert overview.status_code == 200 and "operator" in overview.text


def attempts(p: Proxied) -> set[str]:
    with sqlite3.connect(p.server.data_dir / "app.sqlite3") as db:
        return {ip for (ip,) in db.execute("SELECT ip_address FROM axes_accessattempt")}


def test_the_login_throttle_counts_the_client_behind_nginx_not_its_own_claims(proxied: Proxied) -> None:
    with client(proxied, "127.0.0.5") as http:
        for _ in range(LIMIT - 1):
            assert login(http, "nobody", "wrong password").status_code == 200  # the form again, with an error
        assert login(http, "nobody", "wrong password").status_code == 429  # the failure that reaches the limit
        assert login(http, "somebody", "other password").status_code == 429  # the address stays locked out
    assert "127.0.0.5" in attempts(proxied) and "203.0.113.9" not in attempts(proxied)
    with client(proxied, "127.0.0.6") as http:  # another client behind the same proxy is not locked out
        assert login(http, "nobody", "wrong password").status_code == 200
    direct = httpx.Client(base_url=proxied.server.url, transport=httpx.HTTPTransport(local_address="127.0.0.7"))
    with direct:  # not through the proxy: the peer is not trusted, so its X-Forwarded-For is ignored
        form = direct.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        cookie = re.search(r"csrftoken=([^;]+)", form.headers["Set-Cookie"])  # Secure: httpx keeps it off http
        assert token and cookie
        reply = direct.post("/login/", data={"username": "x", "password": "y", "csrfmiddlewaretoken": token.group(1)},
                            headers={"X-Forwarded-For": "198.51.100.66", "Cookie": f"csrftoken={cookie.group(1)}"})
        assert reply.status_code == 200, reply.text[:300]
    assert "127.0.0.7" in attempts(proxied) and "198.51.100.66" not in attempts(proxied)
