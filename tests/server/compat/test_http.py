"""The compat endpoints over raw HTTP: status codes, framing, parameter spellings, routing, quotas."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.server.compat.conftest import CompatServer


def _get(live: CompatServer, path: str, key: str | None = None, **headers: str) -> httpx.Response:
    hdrs = {"Accept": "application/x-ndjson", **headers}
    if key is not None:
        hdrs["X-API-Key"] = key
    return httpx.get(live.url + path, headers=hdrs, timeout=30)


def _lines(response: httpx.Response) -> list[dict[str, object]]:
    assert response.text.endswith("\n")
    return [json.loads(line) for line in response.text.split("\n") if line]


def test_saf_framing(live: CompatServer) -> None:
    lines = _lines(_get(live, "/dnsdb/v2/lookup/rrset/name/www.example.com/AAAA", live.token))
    assert lines[0] == {"cond": "begin"} and lines[-1] == {"cond": "succeeded"}
    assert [set(line) for line in lines[1:-1]] == [{"obj"}]
    limited = _lines(_get(live, "/dnsdb/v2/lookup/rdata/ip/203.0.113.10?limit=2", live.token))
    assert len(limited) == 4 and limited[-1] == {"cond": "limited", "msg": "Result limit reached"}
    empty = _get(live, "/dnsdb/v2/lookup/rrset/name/nothing-here.example.org", live.token)
    assert empty.status_code == 200 and empty.text == '{"cond":"begin"}\n{"cond":"succeeded"}\n'


def test_key_header_any_case_and_refusals(live: CompatServer) -> None:
    assert httpx.get(live.url + "/dnsdb/v2/rate_limit", headers={"x-api-key": live.token}).status_code == 200
    missing = _get(live, "/dnsdb/v2/lookup/rrset/name/www.example.com")
    assert missing.status_code == 403 and missing.text == "Error: API key not valid\n"
    assert _get(live, "/dnsdb/v2/rate_limit", "wrong").status_code == 403
    circl = httpx.get(live.url + "/pdns/query/example.com")
    assert circl.status_code == 401 and circl.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("path", [
    "/dnsdb/v2/lookup/rrset/name/www.example.com/NOTATYPE",
    "/dnsdb/v2/lookup/rdata/ip/192.0.2.1/MX",
    "/dnsdb/v2/lookup/rdata/ip/192.0.2.300",
    "/dnsdb/v2/lookup/rrset/name/a..b",
    "/dnsdb/v2/lookup/rrset/raw/03777777/A/example.com",
    "/dnsdb/v2/lookup/rdata/raw/abc",
    "/dnsdb/v2/lookup/rrset/name/www.example.com?limit=ten",
    "/dnsdb/v2/lookup/rrset/name/www.example.com?aggr=maybe",
    "/dnsdb/v2/regex/rrnames/(%3F=lookahead)",
])
def test_bad_components_are_400(live: CompatServer, path: str) -> None:
    response = _get(live, path, live.token)
    assert response.status_code == 400 and response.text.startswith("Error: ")


@pytest.mark.parametrize("path", ["/dnsdb/v2/", "/dnsdb/v2/lookup", "/dnsdb/v2/lookup/rrset/bogus/x",
                                  "/dnsdb/v2/frobnicate/rrset/name/x", "/dnsdb/v1/lookup/rrset/name/x", "/dnsdb"])
def test_unknown_top_level_is_404(live: CompatServer, path: str) -> None:
    assert _get(live, path, live.token).status_code == 404


def test_offset_beyond_max_is_416(live: CompatServer) -> None:
    assert _get(live, "/dnsdb/v2/lookup/rdata/ip/203.0.113.10?offset=9999999", live.token).status_code == 416


@pytest.mark.parametrize("spelling", ["False", "false", "f", "0", "no", "NO"])
def test_boolean_spellings(live: CompatServer, spelling: str) -> None:
    lines = _lines(_get(live, f"/dnsdb/v2/regex/rrnames/%5Ebulk00%5C.?verbose={spelling}", live.token))
    assert lines[1] == {"obj": {"rrname": "bulk00.example.com.", "rrtype": "A"}}


def test_unknown_and_identification_params_are_ignored(live: CompatServer) -> None:
    path = "/dnsdb/v2/lookup/rdata/ip/192.0.2.1?rrtype=A&swclient=x&version=1&id=a%3Ab&frobnicate=1"
    assert len(_lines(_get(live, path, live.token))) == 4


def test_percent_encoded_slash_stays_in_its_segment(live: CompatServer) -> None:
    with_slash = _lines(_get(live, "/dnsdb/v2/regex/rdata/x%2Fy%7Cspf1/TXT", live.token))
    assert with_slash[-1] == {"cond": "succeeded"} and len(with_slash) == 3


def test_rrtype_any_dnssec_and_type_numbers(live: CompatServer) -> None:
    assert len(_lines(_get(live, "/dnsdb/v2/lookup/rrset/name/example.com/any-dnssec", live.token))) == 2
    typed = _lines(_get(live, "/dnsdb/v2/lookup/rrset/name/odd.example.org/type65534", live.token))
    assert typed[1]["obj"]["rrtype"] == "TYPE65534"  # type: ignore[index]
    assert typed[1]["obj"]["rdata"] == ["\\# 4 0a0b0c0d"]  # type: ignore[index]


def test_ping_and_rate_limit_are_single_json_lines(live: CompatServer) -> None:
    assert _get(live, "/dnsdb/v2/ping").text == '{"ping":"ok"}\n'
    rate = _get(live, "/dnsdb/v2/rate_limit", live.token)
    assert rate.text.count("\n") == 1 and "rate" in rate.json()
    assert _get(live, "/dnsdb/v2/lookup/rrset/name/example.com", live.token).headers["X-RateLimit-Limit"] == "unlimited"


def test_circl_empty_and_cursor_errors(live: CompatServer) -> None:
    auth = (live.user, live.token)
    empty = httpx.get(live.url + "/pdns/query/nothing-here.example.org", auth=auth)
    assert empty.status_code == 200 and empty.text == "" and "x-dribble-cursor" not in empty.headers
    bad = httpx.get(live.url + "/pdns/query/example.com", auth=auth, headers={"dribble-paginate-cursor": "0"})
    assert bad.status_code == 400
    page = httpx.get(live.url + "/pdns/query/203.0.113.10", auth=auth, headers={"dribble-paginate-count": "25"})
    cursor = int(page.headers["x-dribble-cursor"])
    assert cursor > 0 and len(page.text.splitlines()) == 25


def test_quota_exhaustion_and_rate_limit_report(live: CompatServer) -> None:
    token = live.cli("token", "add", live.user, "--name", "quota-test").strip().splitlines()[-1]
    token_id = live.cli("token", "list", live.user).split("quota-test")[0].strip().splitlines()[-1].split("\t")[0]
    live.cli("quota", "set", token_id, "--daily", "2", "--burst", "10/60")
    rate = _get(live, "/dnsdb/v2/rate_limit", token).json()["rate"]
    assert rate["limit"] == 2 and rate["remaining"] == 2 and isinstance(rate["reset"], int)
    assert rate["burst_size"] == 10 and rate["burst_window"] == 60
    for _ in range(2):
        assert _get(live, "/dnsdb/v2/lookup/rrset/name/example.com", token).status_code == 200
    assert _get(live, "/dnsdb/v2/lookup/rrset/name/example.com", token).status_code == 429
    assert httpx.get(live.url + "/pdns/query/example.com", auth=(live.user, token)).status_code == 429
    assert _get(live, "/dnsdb/v2/rate_limit", token).json()["rate"]["remaining"] == 0
    live.cli("quota", "set", token_id, "--block", "5", "--expires", "2001-01-01")
    assert _get(live, "/dnsdb/v2/lookup/rrset/name/example.com", token).status_code == 401
