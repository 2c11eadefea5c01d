"""Property tests: hostile values in every query parameter and every ingest field never get a 5xx.

Values: integers far past 64 bits (negative too), Unicode digits that ``str.isdigit()`` takes, NUL and other
control characters, lone surrogates (as JSON escapes; as percent-encoded invalid UTF-8 in URLs), very long
strings, JSON nested thousands deep, and the wrong JSON type for a field. Every parameter of the own API,
DNSDB, CIRCL, bulk and management, and every field of an ingest record, gets them. The promise checked:
a 4xx whose body says what was wrong, or a success; for ingest, the hostile record is accepted or rejected
alone and the good record beside it is applied, unless the line is not JSON at all (a lone surrogate
escape), which refuses the batch whole with its line number, as documented.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.conftest import auth, make_user
from yapdns.server.accounts.services import create_query_token
from yapdns.storage.base import BatchRef, Store

EXAMPLES = 15
SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# -- hostile values ---------------------------------------------------------------------------------------

UNICODE_DIGITS = ["\u00b2", "\u0663", "\u0661\u0662\u0663", "\uff13", "\u2466", "\U0001d7d9"]
ODD_TEXT = ["-0", "+1", "1_000", " 1 ", "1e3", "0x10", "NaN", "inf", "\u017foa", "TYPE\u0663", "a\x00b", "\x7f",
            "\u202e", "*", "*.*", ".", "..", "-", "[]", "{}", "null"]
huge_ints = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([2**31, 2**32, 2**62, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30]),
)
# Text a query string or header can carry: str values are percent-encoded as UTF-8, bytes as they are.
url_values = st.one_of(
    huge_ints.map(str),
    st.sampled_from(UNICODE_DIGITS + ODD_TEXT),
    st.text(max_size=40),
    st.just("x" * 5000),
    st.just("[" * 5000),
    st.sampled_from([b"%ff", b"%ed%a0%80", b"%c0%80", b"%00"]),  # invalid UTF-8, a surrogate, overlong NUL, NUL
)
# Any JSON value, and some raw JSON texts that are not produced by json.dumps (deep nesting, lone surrogates).
json_values = st.one_of(
    huge_ints,
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.text(max_size=40),
    st.sampled_from(UNICODE_DIGITS + ODD_TEXT),
    st.just("x" * 100_000),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.lists(st.text(max_size=10), min_size=1000, max_size=1000),
)
raw_json = st.sampled_from(['"\\ud800"', '"\\udfff x"', "[" * 50_000 + "]" * 50_000, '{"a":' * 20_000 + "1" + "}" * 20_000,
                            "1e400", "-1e400", "123456789012345678901234567890"])
json_texts = st.one_of(json_values.map(json.dumps), raw_json)


def query_string(params: dict[str, str | bytes]) -> str:
    return "&".join(f"{k}={v.decode() if isinstance(v, bytes) else quote(v, safe='')}" for k, v in params.items())


def as_header(value: str | bytes) -> str:
    """A header value as WSGI carries it: latin-1 text of the bytes sent."""
    data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    return data.replace(b"\r", b"").replace(b"\n", b"").decode("latin-1")


def assert_answered(reply: Any, json_errors: bool = True) -> None:
    assert reply.status_code < 500, (reply.status_code, getattr(reply, "content", b"")[:300])
    if 400 <= reply.status_code < 500:
        body = reply.content.decode("utf-8", "replace")
        if json_errors:
            assert json.loads(body)["error"], body
        else:
            assert body.startswith("Error: ") and len(body) > len("Error: \n"), body
    elif hasattr(reply, "streaming_content"):
        b"".join(reply.streaming_content)  # a streamed answer must stream to its end


# -- fixtures -------------------------------------------------------------------------------------------------


@pytest.fixture
def loaded(store: Store) -> Store:
    from tests.server.query.test_views import obs

    store.write([obs(f"h{i}.example.com", "A", f"192.0.2.{i}") for i in range(1, 6)], BatchRef("s1", "load"))
    return store


@pytest.fixture
def admin_token(loaded: Store) -> str:
    return create_query_token(make_user("prop-admin", "admin"), "prop")[1]


# -- the own API ---------------------------------------------------------------------------------------------

KEYS = ("q", "rrname", "ip", "rdata_name", "rdata", "sample")
FILTERS = ("type", "sensor", "evidence", "time_first_before", "time_first_after", "time_last_before",
           "time_last_after", "limit", "cursor")
OWN = [("/api/v1/records", {"q": "*.example.com"}, (*KEYS, *FILTERS, "format")),
       ("/api/v1/rrsets", {"rrname": "*.example.com"}, ("rrname", "bailiwick", *FILTERS)),
       ("/api/v1/negatives", {"rrname": "*.example.com"}, ("rrname", "sample", *FILTERS)),
       ("/api/v1/qnames", {"rrname": "*.example.com"}, ("rrname", "sample", *FILTERS)),
       ("/api/v1/record", {"rrname": "h1.example.com", "rrtype": "A", "rdata": "192.0.2.1"},
        ("rrname", "rrtype", "rdata"))]
OWN_CASES = [(url, base, name) for url, base, names in OWN for name in names]


@pytest.mark.parametrize(("url", "base", "name"), OWN_CASES, ids=[f"{u}?{n}" for u, _, n in OWN_CASES])
@SETTINGS
@given(value=url_values)
def test_own_api_parameters(client: Client, admin_token: str, url: str, base: dict[str, str], name: str,
                            value: str | bytes) -> None:
    params: dict[str, str | bytes] = {**base, name: value}
    assert_answered(client.get(f"{url}?{query_string(params)}", **auth(admin_token)))


# -- DNSDB and CIRCL ---------------------------------------------------------------------------------------

DNSDB_PARAMS = ("limit", "offset", "time_first_before", "time_first_after", "time_last_before", "time_last_after",
                "aggr", "humantime", "max_count", "exclude", "verbose", "swclient", "version", "id")
DNSDB_PATHS = ("lookup/rrset/name/{}", "lookup/rrset/name/a.example/{}", "lookup/rrset/name/a.example/A/{}",
               "lookup/rrset/raw/{}", "lookup/rdata/name/{}", "lookup/rdata/ip/{}", "lookup/rdata/raw/{}",
               "summarize/rrset/name/{}", "regex/rrnames/{}", "glob/rdata/{}/A")


@pytest.mark.parametrize("name", DNSDB_PARAMS)
@SETTINGS
@given(value=url_values)
def test_dnsdb_parameters(client: Client, admin_token: str, name: str, value: str | bytes) -> None:
    for path in ("lookup/rrset/name/h1.example.com", "summarize/rdata/ip/192.0.2.0,24", "glob/rrnames/*.example.com."):
        reply = client.get(f"/dnsdb/v2/{path}?{query_string({name: value})}", HTTP_X_API_KEY=admin_token)
        assert_answered(reply, json_errors=False)


@pytest.mark.parametrize("path", DNSDB_PATHS)
@SETTINGS
@given(value=url_values)
def test_dnsdb_path_components(client: Client, admin_token: str, path: str, value: str | bytes) -> None:
    component = value.decode() if isinstance(value, bytes) else quote(value, safe="")
    reply = client.get("/dnsdb/v2/" + path.format(component), HTTP_X_API_KEY=admin_token)
    assert reply.status_code < 500 and (reply.status_code != 400 or reply.content.startswith(b"Error: "))


@pytest.mark.parametrize("header", ["DRIBBLE_PAGINATE_COUNT", "DRIBBLE_PAGINATE_CURSOR", "DRIBBLE_FILTER_RRTYPE",
                                    "DRIBBLE_DISABLE_ACTIVE_QUERY", None])
@SETTINGS
@given(value=url_values)
def test_circl_query_and_headers(client: Client, admin_token: str, header: str | None, value: str | bytes) -> None:
    if header is None:
        component = value.decode() if isinstance(value, bytes) else quote(value, safe="")
        reply = client.get("/pdns/query/" + component, **auth(admin_token))
    else:
        reply = client.get("/pdns/query/h1.example.com", **auth(admin_token), **{f"HTTP_{header}": as_header(value)})
    assert_answered(reply, json_errors=False)


# -- bodies: bulk, management, ingest ----------------------------------------------------------------------------

BULK_FIELDS = ("queries", "type", "sensor", "evidence", "limit", "time_first_before", "time_first_after",
               "time_last_before", "time_last_after", "extra")


@pytest.mark.parametrize("field", BULK_FIELDS)
@SETTINGS
@given(value=json_texts)
def test_bulk_fields(client: Client, admin_token: str, field: str, value: str) -> None:
    body = '{"queries": ["h1.example.com", "192.0.2.0/24"], "' + field + '": ' + value + "}"
    assert_answered(client.post("/api/v1/bulk", body, content_type="application/json", **auth(admin_token)))


@pytest.mark.parametrize(("url", "field"), [("/api/v1/sensors", "name"), ("/api/v1/sensors", "description"),
                                            ("/api/v1/tokens", "name")])
@SETTINGS
@given(value=json_texts)
def test_management_fields(client: Client, admin_token: str, url: str, field: str, value: str) -> None:
    other = {"name": '"probe"', "description": '"d"'}
    body = "{" + ", ".join(f'"{k}": {value if k == field else v}' for k, v in other.items()
                           if url.endswith("sensors") or k == "name") + "}"
    assert_answered(client.post(url, body, content_type="application/json", **auth(admin_token)))


GOOD = {"rrname": "good.example.com", "rrtype": "A", "rdata": ["192.0.2.1"], "time_first": 1_700_000_000,
        "time_last": 1_700_000_100, "count": 2, "ttl": 60, "rcode": None, "bailiwick": "example.com",
        "sensor_id": "ns1", "source": "zeek", "evidence": "direct",
        "sample": {"sha256": "ab" * 32, "task_id": "7"}}
INGEST_FIELDS = (*GOOD, "zone_time_first", "zone_time_last", "sample.sha256", "sample.task_id", "unknown")


def _record_with(field: str, value: str) -> str:
    """The good record's JSON text with ``field`` (``a.b`` for a nested one) set to the JSON text ``value``."""
    fields = {k: json.dumps(v) for k, v in GOOD.items()}
    fields["rrname"] = json.dumps("hostile.example.com")
    if "." in field:
        outer, inner = field.split(".")
        nested = {k: json.dumps(v) for k, v in GOOD[outer].items()}  # type: ignore[attr-defined]
        nested[inner] = value
        fields[outer] = "{" + ", ".join(f'"{k}": {v}' for k, v in nested.items()) + "}"
    else:
        fields[field] = value
    return "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"


@pytest.fixture
def sensor_token(loaded: Store) -> str:
    from yapdns.server.sensors.services import create_sensor

    return create_sensor("prop-sensor")[1]


@pytest.mark.parametrize("field", INGEST_FIELDS)
@SETTINGS
@given(value=json_texts)
def test_ingest_fields(client: Client, sensor_token: str, field: str, value: str) -> None:
    body = (json.dumps(GOOD) + "\n" + _record_with(field, value) + "\n").encode()
    reply = client.post("/api/v1/ingest", body, content_type="application/x-ndjson", **auth(sensor_token))
    if reply.status_code == 400:  # text that is not JSON (a lone surrogate escape): the batch is refused whole
        assert reply.json()["line"] == 2 and "invalid JSON" in reply.json()["error"], reply.content[:300]
        return
    assert reply.status_code == 200, (reply.status_code, reply.content[:300])  # a bad record never fails the batch
    answer = reply.json()
    assert answer["accepted"] >= 1 and answer["accepted"] + answer["rejected"] == 2, answer
    for reject in answer["rejects"]:
        assert reject["line"] == 2 and reject["code"] and reject["message"], reject
