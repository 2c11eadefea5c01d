"""An unknown query parameter on the own API is a 400 that names it; DNSDB's endpoints stay lenient."""

from __future__ import annotations

from django.test import Client

from tests.server.conftest import auth
from yapdns.storage.base import Store


def test_a_misspelt_parameter_is_refused_with_the_known_ones(client: Client, store: Store, query_token: str) -> None:
    answer = client.get("/api/v1/records", {"q": "example.com", "rrtyp": "A"}, **auth(query_token))
    assert answer.status_code == 400
    message = answer.json()["error"]
    assert "'rrtyp'" in message and "type" in message


def test_declared_parameters_pass(client: Client, store: Store, query_token: str) -> None:
    answer = client.get("/api/v1/records", {"q": "example.com", "type": "A", "rrtype": "A", "limit": "5"}, **auth(query_token))
    assert answer.status_code == 200


def test_dnsdb_ignores_unknown_parameters_as_dnsdb_does(client: Client, store: Store, query_token: str) -> None:
    answer = client.get("/dnsdb/v2/lookup/rrset/name/example.com", {"swclient": "x", "nonsense": "1"},
                        HTTP_X_API_KEY=query_token)
    assert answer.status_code == 200
