"""accounts.services and roles: query tokens as the CLI, the API and the dashboard make them; who may do what."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from tests.server.conftest import make_user
from yapdns.core.errors import ConfigurationError
from yapdns.server.accounts.roles import can_manage_sensors, can_manage_users, role_of, set_role
from yapdns.server.accounts.services import create_query_token, revoke_query_token
from yapdns.server.security import authenticate_token


@pytest.mark.django_db
def test_a_query_token_authenticates_its_user_until_revoked() -> None:
    user = make_user("ana", "analyst")
    row, token = create_query_token(user, "x" * 150)
    assert token.startswith("yq_") and len(row.name) == 100  # names are cut to the column
    principal = authenticate_token(token)
    assert principal is not None and principal.kind == "user" and principal.user == user
    revoke_query_token(row.pk)
    assert authenticate_token(token) is None
    assert revoke_query_token(row.pk).revoked_at is not None  # revoking twice keeps the first time


@pytest.mark.django_db
def test_revoking_is_limited_to_the_owner_when_one_is_given() -> None:
    owner, stranger = make_user("owner", "read-only"), make_user("stranger", "admin")
    row, token = create_query_token(owner, "t")
    with pytest.raises(ConfigurationError):
        revoke_query_token(row.pk, stranger)
    with pytest.raises(ConfigurationError):
        revoke_query_token(row.pk + 1000)
    assert authenticate_token(token) is not None
    revoke_query_token(row.pk, owner)
    assert authenticate_token(token) is None


@pytest.mark.django_db
def test_a_disabled_user_s_tokens_stop_working() -> None:
    user = make_user("gone", "analyst")
    _, token = create_query_token(user, "t")
    user.is_active = False
    user.save()
    assert authenticate_token(token) is None


@pytest.mark.django_db
def test_roles_decide_who_manages_what() -> None:
    admin, analyst, reader = make_user("a", "admin"), make_user("b", "analyst"), make_user("c", "read-only")
    assert [role_of(u) for u in (admin, analyst, reader, AnonymousUser())] == ["admin", "analyst", "read-only", None]
    assert [can_manage_sensors(u) for u in (admin, analyst, reader)] == [True, True, False]
    assert [can_manage_users(u) for u in (admin, analyst, reader)] == [True, False, False]
    set_role(reader, "admin")
    assert role_of(reader) == "admin" and list(reader.groups.values_list("name", flat=True)) == ["admin"]
