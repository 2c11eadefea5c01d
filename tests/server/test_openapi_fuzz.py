"""schemathesis walks /api/v1/openapi.json against the real Django app: no input may get a 5xx.

Every operation of the OpenAPI document is called with generated requests, valid ones and invalid ones
(wrong types, out-of-range values, missing fields), through the WSGI app in this process, with real
credentials and a real store. Besides "no 5xx", every answer must be one the document declares (status
code, content type, body schema), and invalid requests must be refused, so the document stays an accurate
description of the API.

Bounded: ``EXAMPLES`` requests per operation and mode, derandomized (the same requests every run), about a
minute in all.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.server.conftest import make_user
from yapdns.server.accounts.services import create_query_token
from yapdns.server.query.openapi import schema as openapi_schema
from yapdns.server.sensors.services import create_sensor
from yapdns.storage.base import Store

EXAMPLES = 20


def _schema() -> Any:
    from django.core.wsgi import get_wsgi_application

    loaded = schemathesis.openapi.from_dict(openapi_schema())
    loaded.app = get_wsgi_application()
    return loaded


SCHEMA = _schema()
OPERATIONS = {op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())}
# Ingest answers an invalid record with 200 and that record's reject (never the batch's): its body schema
# describes the fields, and a request that breaks it is accepted on purpose.
PER_RECORD = {"POST /api/v1/ingest"}
# Not checked anywhere: that every request the schema allows succeeds. OpenAPI cannot say "exactly one of
# these parameters" or what a DNS name is, so a request valid by the schema may rightly be a 400.
NOT_CHECKED = [positive_data_acceptance]


@pytest.fixture(autouse=True)
def no_following(monkeypatch: pytest.MonkeyPatch) -> None:
    """The NOD stream answers at once: a generated ``follow=300`` would otherwise hold each call for minutes."""
    from yapdns.server.detection import streams

    monkeypatch.setattr(streams, "FOLLOW_MAX", 0)


@pytest.fixture
def credentials(store: Store) -> dict[str, str]:
    admin = make_user("fuzz-admin", "admin")
    return {"query": create_query_token(admin, "fuzz")[1], "sensor": create_sensor("fuzz-sensor")[1]}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_input_gets_a_server_error(label: str, mode: GenerationMode, credentials: dict[str, str]) -> None:
    operation = OPERATIONS[label]
    token = credentials["sensor"] if operation.path == "/api/v1/ingest" else credentials["query"]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        excluded = list(NOT_CHECKED)
        if label in PER_RECORD or case.media_type == "text/plain":  # text has no wrong type to send
            excluded.append(negative_data_rejection)
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, excluded_checks=excluded)

    try:
        run()
    except Unsatisfiable:  # an operation without parameters or body has no invalid request to make
        assert mode == GenerationMode.NEGATIVE
        pytest.skip("nothing to make invalid")
