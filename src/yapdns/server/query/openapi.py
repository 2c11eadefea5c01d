"""The OpenAPI 3.1 description of the own API (``/api/v1/openapi.json``).

A test checks that every route under ``/api/v1/`` is described here, so the
schema cannot silently fall behind the URL map. The DNSDB and CIRCL
compatible APIs follow their vendors' contracts and are documented in
``docs/api.md``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from yapdns import __version__
from yapdns.server.security import Principal, api_view

_STR = {"type": "string"}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}


def _param(name: str, description: str, schema: dict[str, Any] = _STR, where: str = "query") -> dict[str, Any]:
    return {"name": name, "in": where, "description": description, "schema": schema}


_FILTERS = [
    _param("type", "RR types: A, A,AAAA, TYPE65534, ANY (no DNSSEC) or ANY-DNSSEC."),
    _param("sensor", "Only what this sensor (and its sub-sensors) saw; times and counts are that sensor's."),
    _param("evidence", "direct, indirect or imported.", {"type": "string", "enum": ["direct", "indirect", "imported"]}),
    _param("time_first_before", "time_first <= T (epoch seconds; negative = now + T).", _INT),
    _param("time_first_after", "time_first >= T.", _INT),
    _param("time_last_before", "time_last <= T.", _INT),
    _param("time_last_after", "time_last >= T.", _INT),
    _param("limit", "Rows per page (JSON: at most 10000; 0 = the maximum).", _INT),
    _param("cursor", "Resume after the last row of the previous page (its next_cursor)."),
]
_KEYS = [
    _param("q", "Auto: an IP, CIDR (a/n) or range (a-b) searches A/AAAA rdata; otherwise a name, *.domain or name.*"),
    _param("rrname", "Owner name: exact, *.example.com (subdomains) or www.example.* (prefix)."),
    _param("ip", "IP, CIDR or range in A/AAAA rdata."),
    _param("rdata_name", "A name inside rdata (CNAME/NS/PTR/DNAME target, MX host, SRV target); wildcards allowed."),
    _param("rdata", "Exact rdata in presentation form (needs one type)."),
    _param("sample", "SHA-256 of a sandbox sample: the records its analyses resolved."),
]
_RECORD = {
    "type": "object",
    "description": "time_first/time_last: seen in traffic; zone_time_first/zone_time_last: seen in zone files. "
    "A record has either pair or both.",
    "required": ["rrname", "rrtype", "rdata", "count"],
    "properties": {
        "rrname": _STR,
        "rrtype": _STR,
        "rdata": _STR,
        "time_first": _INT,
        "time_last": _INT,
        "zone_time_first": _INT,
        "zone_time_last": _INT,
        "count": _INT,
        "ttl_min": _INT,
        "ttl_max": _INT,
    },
}
_ERROR = {"type": "object", "required": ["error"], "properties": {"error": _STR, "line": _INT}}


def _page(key: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            key: {"type": "array", "items": item},
            "limited": _BOOL,
            "next_cursor": {"type": ["string", "null"]},
        },
    }


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": _json(_ERROR, "Bad parameters: the message says what to fix"),
    "401": _json(_ERROR, "Missing or invalid credentials"),
    "403": _json(_ERROR, "This credential may not use this endpoint"),
}


def _get(summary: str, parameters: list[dict[str, Any]], ok: dict[str, Any]) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": parameters, "responses": {"200": ok, **_ERRORS}}}


def _post(
    summary: str, body: dict[str, Any], ok: dict[str, Any], extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    responses = {"200": ok, **_ERRORS, **(extra or {})}
    return {"post": {"summary": summary, "requestBody": {"required": True, "content": body}, "responses": responses}}


def _paths() -> dict[str, Any]:
    name = [_param("rrname", "Owner name, *.domain or name.*")]
    observation = {"type": "object", "required": ["rrname", "rrtype"], "additionalProperties": True}
    return {
        "/api/v1/ingest": _post(
            "Ingest a batch of observations (sensor token). Header X-Batch-Id makes it idempotent.",
            {
                "application/x-ndjson": {"schema": observation},
                "application/json": {"schema": {"type": "array", "items": observation}},
            },
            _json(
                {
                    "type": "object",
                    "properties": {
                        "batch_id": _STR,
                        "accepted": _INT,
                        "rejected": _INT,
                        "replayed": _BOOL,
                        "rejects": {"type": "array"},
                    },
                }
            ),
            {"413": _json(_ERROR, "Body too large"), "503": _json(_ERROR, "Store unavailable; retry")},
        ),
        "/api/v1/records": _get(
            "Per-RR records: a JSON page, or streamed COF NDJSON / CSV (format=cof|csv).",
            [
                *_KEYS,
                *_FILTERS,
                _param("format", "json, cof or csv", {"type": "string", "enum": ["json", "cof", "csv"]}),
            ],
            {
                "description": "OK",
                "content": {
                    "application/json": {"schema": _page("records", _RECORD)},
                    "application/x-ndjson": {"schema": _RECORD},
                    "text/csv": {"schema": _STR},
                },
            },
        ),
        "/api/v1/record": _get(
            "One record with its per-sensor/evidence breakdown and linked sandbox samples.",
            [_param("rrname", "Exact owner name"), _param("rrtype", "Type"), _param("rdata", "Rdata")],
            _json(
                {
                    "type": "object",
                    "properties": {"record": _RECORD, "provenance": {"type": "array"}, "samples": {"type": "array"}},
                }
            ),
        ),
        "/api/v1/rrsets": _get(
            "RRset records (DNSDB-style rows).",
            [*name, _param("bailiwick", "Zone"), *_FILTERS],
            _json(_page("rrsets", {"type": "object"})),
        ),
        "/api/v1/negatives": _get(
            "Negative answers (NXDOMAIN, NODATA, SERVFAIL...).",
            [*name, *_FILTERS],
            _json(_page("negatives", {"type": "object"})),
        ),
        "/api/v1/qnames": _get(
            "Names that were queried (answer unknown).", [*name, *_FILTERS], _json(_page("qnames", {"type": "object"}))
        ),
        "/api/v1/bulk": _post(
            "Many lookups in one request; answers stream back as NDJSON lines tagged with their query.",
            {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["queries"],
                        "properties": {"queries": {"type": "array", "items": _STR}},
                    }
                },
                "text/plain": {"schema": _STR},
            },
            {"description": "OK", "content": {"application/x-ndjson": {"schema": {"type": "object"}}}},
        ),
        "/api/v1/stats": _get("Store totals and sensor health.", [], _json({"type": "object"})),
        "/api/v1/health": _get("Liveness probe (no authentication).", [], _json({"type": "object"})),
        "/api/v1/sensors": {
            **_get("List sensors (admin or analyst).", [], _json({"type": "object"})),
            **_post(
                "Create a sensor; its ingest token is in the answer, once.",
                {"application/json": {"schema": {"type": "object", "required": ["name"]}}},
                _json({"type": "object"}),
            ),
        },
        "/api/v1/sensors/{name}/revoke": _post(
            "Revoke a sensor and its tokens.",
            {"application/json": {"schema": {"type": "object"}}},
            _json({"type": "object"}),
        ),
        "/api/v1/tokens": {
            **_get("Your query tokens.", [], _json({"type": "object"})),
            **_post(
                "Create a query token; it is in the answer, once.",
                {"application/json": {"schema": {"type": "object"}}},
                _json({"type": "object"}),
            ),
        },
        "/api/v1/tokens/{token_id}/revoke": _post(
            "Revoke one of your query tokens.",
            {"application/json": {"schema": {"type": "object"}}},
            _json({"type": "object"}),
        ),
        "/api/v1/openapi.json": _get("This document.", [], _json({"type": "object"})),
    }


def schema() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "YAPDNS API",
            "version": __version__,
            "description": "Passive DNS ingest and query. Authenticate with 'Authorization: Bearer <token>'.",
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": _paths(),
    }


@api_view("query")
def schema_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    return JsonResponse(schema())
