"""Management pages: roles, sensors and tokens (shown once, revocable), users, CSRF, logout."""

from __future__ import annotations

import re

from django.contrib.auth.models import User
from django.test import Client

from yapdns.server.accounts.roles import role_of
from yapdns.server.security import authenticate_token
from yapdns.storage.base import Store


def test_roles_gate_the_management_pages(store: Store, reader_client: Client, analyst_client: Client) -> None:
    assert reader_client.get("/manage/sensors").status_code == 403
    assert reader_client.post("/manage/sensors", {"name": "x"}).status_code == 403
    assert analyst_client.get("/manage/sensors").status_code == 200
    assert analyst_client.get("/manage/users").status_code == 403
    assert reader_client.get("/manage/tokens").status_code == 200  # everyone owns their query tokens


def test_a_sensor_token_is_shown_once_and_can_be_revoked(store: Store, analyst_client: Client) -> None:
    created = analyst_client.post("/manage/sensors", {"name": "dc1-resolver", "description": "DC 1"})
    html = created.content.decode()
    assert 'id="new-token-box"' in html
    match = re.search(r'value="(ys_[A-Za-z0-9_-]+)"', html)
    assert match is not None
    secret = match.group(1)
    principal = authenticate_token(secret)
    assert principal is not None and principal.sensor is not None and principal.sensor.name == "dc1-resolver"
    listing = analyst_client.get("/manage/sensors").content.decode()
    assert secret not in listing and secret[:10] in listing  # only the prefix, ever again
    page = analyst_client.get("/manage/sensors/dc1-resolver").content.decode()
    token_id = re.search(r'name="token_id" value="(\d+)"', page)
    assert token_id is not None
    analyst_client.post("/manage/sensors/dc1-resolver", {"action": "revoke_token", "token_id": token_id.group(1)})
    assert authenticate_token(secret) is None


def test_a_second_token_and_revoking_the_sensor(store: Store, analyst_client: Client) -> None:
    analyst_client.post("/manage/sensors", {"name": "dc2"})
    html = analyst_client.post("/manage/sensors/dc2", {"action": "new_token"}).content.decode()
    match = re.search(r'value="(ys_[A-Za-z0-9_-]+)"', html)
    assert match is not None and authenticate_token(match.group(1)) is not None
    analyst_client.post("/manage/sensors/dc2", {"action": "revoke_sensor"})
    assert authenticate_token(match.group(1)) is None


def test_invalid_sensor_names_are_explained(store: Store, analyst_client: Client) -> None:
    reply = analyst_client.post("/manage/sensors", {"name": "<bad name>"})
    assert reply.status_code == 400 and "field-error" in reply.content.decode()


def test_query_tokens_create_and_revoke(store: Store, reader_client: Client) -> None:
    html = reader_client.post("/manage/tokens", {"action": "create", "name": "notebook"}).content.decode()
    match = re.search(r'value="(yq_[A-Za-z0-9_-]+)"', html)
    assert match is not None and authenticate_token(match.group(1)) is not None
    token_id = re.search(r'name="token_id" value="(\d+)"', reader_client.get("/manage/tokens").content.decode())
    assert token_id is not None
    reader_client.post("/manage/tokens", {"action": "revoke", "token_id": token_id.group(1)})
    assert authenticate_token(match.group(1)) is None


def test_admins_manage_users(store: Store, admin_client: Client) -> None:
    reply = admin_client.post(
        "/manage/users", {"username": "newbie", "password": "a long enough passphrase", "role": "read-only"}
    )
    assert reply.status_code == 302
    user = User.objects.get(username="newbie")
    assert role_of(user) == "read-only"
    admin_client.post(f"/manage/users/{user.pk}", {"action": "role", "role": "analyst"})
    assert role_of(User.objects.get(pk=user.pk)) == "analyst"
    admin_client.post(f"/manage/users/{user.pk}", {"action": "disable"})
    assert not User.objects.get(pk=user.pk).is_active
    weak = admin_client.post("/manage/users", {"username": "weak", "password": "123", "role": "analyst"})
    assert weak.status_code == 400 and not User.objects.filter(username="weak").exists()


def test_an_admin_cannot_lock_themselves_out(store: Store, admin_client: Client) -> None:
    me = User.objects.get(username="ada")
    assert admin_client.post(f"/manage/users/{me.pk}", {"action": "disable"}).status_code == 400
    assert User.objects.get(pk=me.pk).is_active


def test_forms_enforce_csrf(store: Store) -> None:
    from tests.server.conftest import make_user

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("csrf", "admin"))
    assert strict.post("/manage/sensors", {"name": "sneaky"}).status_code == 403
    assert strict.post("/manage/tokens", {"action": "create", "name": "x"}).status_code == 403
    assert strict.post("/logout/").status_code == 403
    page = strict.get("/manage/sensors").content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert csrf is not None
    ok = strict.post("/manage/sensors", {"name": "legit", "csrfmiddlewaretoken": csrf.group(1)})
    assert ok.status_code == 200


def test_logout_is_post_only(store: Store, reader_client: Client) -> None:
    assert reader_client.get("/logout/").status_code == 405
    assert reader_client.post("/logout/").status_code == 302
    assert reader_client.get("/").status_code == 302  # back to the login page
