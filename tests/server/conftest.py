"""Server fixtures: a fresh record store per test, sensors, users and their tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client

from yapdns.server.accounts.roles import set_role
from yapdns.server.accounts.services import create_query_token
from yapdns.server.sensors.services import create_sensor
from yapdns.server.store import get_store, reset_store
from yapdns.storage.base import Store


@pytest.fixture
def store(db: None) -> Iterator[Store]:
    """The server's store, fresh for this test (the data dir is per-test, see tests/conftest.py)."""
    reset_store()
    current = get_store()
    current.migrate()
    yield current
    reset_store()


@pytest.fixture
def sensor_token(store: Store) -> str:
    return create_sensor("sensor-1")[1]


def make_user(username: str, role: str = "analyst") -> User:
    user = User.objects.create_user(username, password="correct horse battery staple")
    set_role(user, role)  # type: ignore[arg-type]
    return user


@pytest.fixture
def analyst(db: None) -> User:
    return make_user("ana", "analyst")


@pytest.fixture
def query_token(store: Store, analyst: User) -> str:
    return create_query_token(analyst, "tests")[1]


@pytest.fixture
def api(client: Client) -> Client:
    return client


def auth(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
