"""One user-name rule for `yapdns user add` and the dashboard's user form (issue 13, section 4)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from django.contrib.auth.models import User
from django.test import Client

from tests.server.conftest import make_user
from yapdns.cli import main

REFUSED = ["<b>eve</b>", " eve", "eve ", "e ve", "eve\n", "", "x" * 151, "eve;rm", "<script>"]
ACCEPTED = ["eve", "eve.smith@example.org", "ève-1_+"]


def cli_add(name: str) -> int:
    result = CliRunner().invoke(main, ["user", "add", name, "--password", "a-long-enough-pass"], catch_exceptions=False)
    return result.exit_code


def form_add(client: Client, name: str) -> int:
    reply = client.post("/manage/users", {"username": name, "password": "a-long-enough-pass", "role": "analyst"})
    return reply.status_code


@pytest.mark.django_db(transaction=True)
def test_the_cli_and_the_form_refuse_and_accept_the_same_names(client: Client) -> None:
    client.force_login(make_user("root-admin", "admin"))
    for name in REFUSED:
        assert (cli_add(name), form_add(client, name)) == (1, 400), name
        assert not User.objects.filter(username__in=[name, name.strip()]).exists(), name
    for name in ACCEPTED:
        assert cli_add(name) == 0, name
        User.objects.filter(username=name).delete()
        assert form_add(client, name) in (200, 302), name
        assert User.objects.filter(username=name).exists(), name
