"""The call patterns of MISP's ``farsight_passivedns`` and ``circl_passivedns`` expansion modules
(misp-modules 27bc09f), replayed through the same client libraries against a live YAPDNS server.

farsight_passivedns: ``dnsdb2.Client(apikey, server)``; for a name ``lookup_rrset`` and
``lookup_rdata_name``, for an IP ``lookup_rdata_ip``, and with flex enabled ``flex_{rdata,rrnames}_regex``
on the value and on its ``\\.``-escaped form; always ``limit``, ``offset=0``, ``ignore_limited=True``,
``humantime=True``, plus ``time_first_after`` as a string when the attribute has a first_seen. It then
looks every row key up in a fixed mapping (an unknown key is a KeyError) and explodes list rdata.

circl_passivedns: ``pypdns.PyPDNS(basic_auth=(user, password))`` (the module hard-codes the public URL;
pointing it at YAPDNS means passing ``url=``), ``query(value)``, then reads ``count origin rrtype rrname
rdata time_first time_last`` of every row by key.
"""

from __future__ import annotations

import datetime as dt

import dnsdb2
import pypdns
import pytest

from tests.server.compat.conftest import CompatServer

FARSIGHT_MAPPING = {"bailiwick", "count", "raw_rdata", "rdata", "rrname", "rrtype", "time_first", "time_last",
                    "zone_time_first", "zone_time_last"}
CIRCL_MAPPING = ("count", "origin", "rrtype", "rrname", "rdata")


def _farsight(live: CompatServer, value: str, kind: str, first_seen: str | None = None) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    client = dnsdb2.Client(live.token, live.url)
    args: dict[str, object] = {"limit": 10, "offset": 0, "ignore_limited": True, "humantime": True}
    if first_seen:
        args["time_first_after"] = str(int(dt.datetime.strptime(first_seen, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()))
    response: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    if kind == "name":
        response["rrset"] = list(client.lookup_rrset(value, **args))
        response["rdata"] = list(client.lookup_rdata_name(value, **args))
    else:
        response["rdata"] = list(client.lookup_rdata_ip(value, **args))
    for feature in ("rdata", "rrnames"):
        call = getattr(client, f"flex_{feature}_regex")
        results = list(call(value, **args))
        results += [r for r in call(value.replace(".", "\\."), **args) if r not in results]
        response[f"flex_{feature}"] = results
    return response


def _check_rows(response: dict[str, list[dict]]) -> int:  # type: ignore[type-arg]
    seen = 0
    for rows in response.values():
        for row in rows:
            assert set(row) <= FARSIGHT_MAPPING, row
            assert isinstance(row["time_first"], str) and row["time_first"].endswith("Z")
            rdata_field = row.get("rdata", [])  # flex rrnames rows carry no rdata
            for rdata in rdata_field if isinstance(rdata_field, list) else [rdata_field]:
                assert isinstance(rdata, str)
            seen += 1
    return seen


@pytest.mark.parametrize(("value", "kind"), [("www.example.com", "name"), ("example.com", "name"),
                                             ("192.0.2.1", "ip"), ("203.0.113.10", "ip")])
def test_farsight_module_pattern(live: CompatServer, value: str, kind: str) -> None:
    response = _farsight(live, value, kind)
    assert _check_rows(response) > 0
    if kind == "ip":
        assert response["flex_rdata"], "flex over rdata finds the address itself"


def test_farsight_first_seen_fence(live: CompatServer) -> None:
    response = _farsight(live, "www.example.com", "name", first_seen="2020-09-13T12:26:40.000000+0000")
    assert response["rrset"] and all(r["time_first"] >= "2020-09-13T12:26:40Z" for r in response["rrset"])


def test_farsight_empty_value(live: CompatServer) -> None:
    response = _farsight(live, "nothing-here.example.org", "name")
    assert not any(response.values())  # the module then reports "Empty results"


@pytest.mark.parametrize("value", ["www.example.com", "192.0.2.1", "mail.example.com"])
def test_circl_module_pattern(live: CompatServer, value: str) -> None:
    pdns = pypdns.PyPDNS(url=f"{live.url}/pdns/query", basic_auth=(live.user, live.token))
    results = pdns.query(value)
    assert results
    for result in results:
        for relation in CIRCL_MAPPING:
            assert result[relation] is not None
        assert isinstance(result["time_first"], dt.datetime) and isinstance(result["time_last"], dt.datetime)
