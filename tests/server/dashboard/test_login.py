"""Logging in, and the login rate limit per username and per client address."""

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
def test_a_username_is_locked_after_repeated_failures_from_any_address(store: Store) -> None:
    make_user("ana")
    for i in range(2):
        assert attempt("ana", "wrong", ip=f"198.51.100.{i}") == 200
    assert attempt("ana", "wrong", ip="198.51.100.2") == 429  # the third failure locks
    assert attempt("ana", PASSWORD, ip="203.0.113.9") == 429  # even the right password, from elsewhere
    make_user("bob")
    assert attempt("bob", PASSWORD, ip="198.51.100.1") == 302  # other accounts are not affected


@override_settings(AXES_FAILURE_LIMIT=3)
def test_an_address_is_locked_after_failures_on_many_usernames(store: Store) -> None:
    make_user("carol")
    for name in ("u1", "u2"):
        assert attempt(name, "wrong", ip="192.0.2.50") == 200
    assert attempt("u3", "wrong", ip="192.0.2.50") == 429
    assert attempt("carol", PASSWORD, ip="192.0.2.50") == 429
    assert attempt("carol", PASSWORD, ip="192.0.2.51") == 302


def test_a_proxy_on_this_host_may_name_the_client(store: Store) -> None:
    from django.test import RequestFactory

    from yapdns.server.dashboard.auth import client_ip

    factory = RequestFactory()
    assert client_ip(factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")) == "203.0.113.5"
    assert client_ip(factory.get("/", REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR="203.0.113.5")) == "192.0.2.7"


@override_settings(AXES_FAILURE_LIMIT=3)
def test_ones_own_login_does_not_wipe_failures_against_others(store: Store) -> None:
    make_user("insider")
    make_user("target")
    assert attempt("target", "guess-1", ip="192.0.2.60") == 200
    assert attempt("target", "guess-2", ip="192.0.2.60") == 200
    assert attempt("insider", PASSWORD, ip="192.0.2.60") == 302
    assert attempt("target", "guess-3", ip="192.0.2.61") == 429
