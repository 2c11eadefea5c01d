"""Logging in, and the login rate limit per (username, client address) and per client address."""

from __future__ import annotations

from django.test import Client, override_settings

from tests.server.conftest import make_user
from yapdns.storage.base import Store

PASSWORD = "correct horse battery staple"


def attempt(username: str, password: str, ip: str = "192.0.2.1") -> int:
    reply = Client(REMOTE_ADDR=ip).post("/login/", {"username": username, "password": password})
    return int(reply.status_code)


def test_login_and_the_pages_behind_it(store: Store) -> None:
    make_user("ana")
    client = Client()
    assert client.get("/search").status_code == 302
    reply = client.post("/login/", {"username": "ana", "password": PASSWORD, "next": "/search"})
    assert reply.status_code == 302 and reply["Location"] == "/search"
    assert client.get("/search").status_code == 200


def test_a_wrong_password_is_refused_with_a_message(store: Store) -> None:
    make_user("ana")
    reply = Client().post("/login/", {"username": "ana", "password": "nope"})
    assert reply.status_code == 200 and 'id="login-error"' in reply.content.decode()


def test_an_open_redirect_is_not_followed(store: Store) -> None:
    make_user("ana")
    reply = Client().post("/login/", {"username": "ana", "password": PASSWORD, "next": "https://evil.example/"})
    assert reply["Location"] == "/"


@override_settings(AXES_FAILURE_LIMIT=3)
def test_failures_lock_a_username_only_from_their_address(store: Store) -> None:
    make_user("admin-user")
    for _ in range(2):
        assert attempt("admin-user", "wrong", ip="198.51.100.7") == 200
    assert attempt("admin-user", "wrong", ip="198.51.100.7") == 429  # the third failure locks
    assert attempt("admin-user", PASSWORD, ip="198.51.100.7") == 429  # even the right password, from there
    assert attempt("admin-user", PASSWORD, ip="203.0.113.9") == 302  # the owner, elsewhere, is not locked out


@override_settings(AXES_FAILURE_LIMIT=3)
def test_failures_spread_over_addresses_lock_nobody_out(store: Store) -> None:
    make_user("ana")
    for i in range(6):
        assert attempt("ana", "wrong", ip=f"198.51.100.{i}") == 200
    assert attempt("ana", PASSWORD, ip="203.0.113.9") == 302


@override_settings(AXES_FAILURE_LIMIT=3)
def test_an_address_is_locked_after_failures_on_many_usernames(store: Store) -> None:
    make_user("carol")
    for name in ("u1", "u2"):
        assert attempt(name, "wrong", ip="192.0.2.50") == 200
    assert attempt("u3", "wrong", ip="192.0.2.50") == 429
    assert attempt("carol", PASSWORD, ip="192.0.2.50") == 429
    assert attempt("carol", PASSWORD, ip="192.0.2.51") == 302


def test_x_forwarded_for_is_believed_only_from_configured_proxies(store: Store) -> None:
    from django.test import RequestFactory

    from yapdns.server.dashboard.auth import client_ip

    factory = RequestFactory()

    def ip(peer: str, forwarded: str) -> str:
        return client_ip(factory.get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded))

    assert ip("127.0.0.1", "203.0.113.5") == "127.0.0.1"  # not configured: the peer, whoever it is
    with override_settings(TRUSTED_PROXIES=frozenset({"127.0.0.1", "10.0.0.2"})):
        assert ip("127.0.0.1", "203.0.113.5") == "203.0.113.5"
        assert ip("127.0.0.1", "198.51.100.1, 203.0.113.5, 10.0.0.2") == "203.0.113.5"  # a chain of trusted proxies
        assert ip("192.0.2.7", "203.0.113.5") == "192.0.2.7"  # from anyone else the header is a claim
        assert ip("127.0.0.1", "") == "127.0.0.1"


@override_settings(AXES_FAILURE_LIMIT=3, TRUSTED_PROXIES=frozenset({"127.0.0.1"}))
def test_behind_a_configured_proxy_the_lock_is_per_client(store: Store) -> None:
    make_user("ana")

    def via_proxy(password: str, client: str) -> int:
        reply = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=client).post(
            "/login/", {"username": "ana", "password": password}
        )
        return int(reply.status_code)

    for _ in range(3):
        via_proxy("wrong", "198.51.100.9")
    assert via_proxy(PASSWORD, "198.51.100.9") == 429
    assert via_proxy(PASSWORD, "203.0.113.1") == 302


@override_settings(AXES_FAILURE_LIMIT=3)
def test_ones_own_login_does_not_wipe_failures_against_others(store: Store) -> None:
    make_user("insider")
    make_user("target")
    assert attempt("target", "guess-1", ip="192.0.2.60") == 200
    assert attempt("target", "guess-2", ip="192.0.2.60") == 200
    assert attempt("insider", PASSWORD, ip="192.0.2.60") == 302
    assert attempt("target", "guess-3", ip="192.0.2.60") == 429
