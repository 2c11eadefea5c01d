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
from yapdns.core.batch import MAX_BATCH_ID
from yapdns.core.normalize import MAX_COUNT, MAX_TIME
from yapdns.server.security import Principal, api_view
from yapdns.storage.query import FENCE_MAX, FENCE_PARAMS

_STR = {"type": "string"}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}
_FENCE = {"type": "integer", "minimum": -FENCE_MAX, "maximum": FENCE_MAX}
_LIMIT = {"type": "integer", "minimum": 0}
_EVIDENCE = {"type": "string", "enum": ["direct", "indirect", "imported", ""]}  # empty: any evidence


def _param(name: str, description: str, schema: dict[str, Any] = _STR, where: str = "query") -> dict[str, Any]:
    return {"name": name, "in": where, "description": description, "schema": schema}


_FILTERS = [
    _param("type", "RR types: A, A,AAAA, TYPE65534, ANY (no DNSSEC) or ANY-DNSSEC."),
    _param("rrtype", "The same as type (DNSDB's word); type wins when both are given."),
    _param("sensor", "Only what this sensor (and its sub-sensors) saw; times and counts are that sensor's."),
    _param("evidence", "direct, indirect or imported.", _EVIDENCE),
    _param("time_first_before", "time_first <= T (epoch seconds; negative = now + T).", _FENCE),
    _param("time_first_after", "time_first >= T.", _FENCE),
    _param("time_last_before", "time_last <= T.", _FENCE),
    _param("time_last_after", "time_last >= T.", _FENCE),
    _param("limit", "Rows per page (JSON: at most 10000, larger values are clamped; 0 = the maximum).", _LIMIT),
    _param("cursor", "Resume after the last row of the previous page (its next_cursor); anything else is 400."),
]
_KEYS = [
    _param("q", "Auto: an IP, CIDR (a/n) or range (a-b) searches A/AAAA rdata; otherwise a name, *.domain or name.*"),
    _param("rrname", "Owner name: exact, *.example.com (subdomains) or www.example.* (prefix)."),
    _param("ip", "IP, CIDR or range in A/AAAA rdata."),
    _param("rdata_name", "A name inside rdata (CNAME/NS/PTR/DNAME target, MX host, SRV target); wildcards allowed."),
    _param("rdata", "Exact rdata in presentation form (needs one type)."),
    _param("sample", "SHA-256 of a sandbox sample: the records its analyses resolved."),
]
_CONTEXT_PARAMS = [
    _param("asn", "Only records whose address a kept context row puts in this AS (13335 or AS13335); with no key, "
           "all such records."),
    _param("cc", "Only records whose address a kept context row puts in this country (ISO code, e.g. NL)."),
    _param("prefix", "Only records whose address a kept context row puts in this routed prefix (192.0.2.0/24)."),
]
_CONTEXT = {
    "type": ["object", "null"],
    "description": "A/AAAA records: who announced the address and where, as of the record's last sighting "
    "(the enrichment dataset's value built at or before it, else the oldest known).",
    "properties": {"asn": {"type": ["integer", "null"]}, "as_name": {"type": ["string", "null"]},
                   "prefix": {"type": ["string", "null"]}, "country": {"type": ["string", "null"]},
                   "source": _STR, "data_date": _INT},
}
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
        "context": _CONTEXT,
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
_TOO_LARGE = {"413": _json(_ERROR, "Over a limit of one request (docs/configuration.md): send less per request")}
_NOT_FOUND = {"404": _json(_ERROR, "No such object")}


def _get(
    summary: str, parameters: list[dict[str, Any]], ok: dict[str, Any], extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": parameters, "responses": {"200": ok, **_ERRORS, **(extra or {})}}}


def _post(
    summary: str,
    body: dict[str, Any] | None,
    ok: dict[str, Any],
    extra: dict[str, Any] | None = None,
    *,
    status: str = "200",
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": {status: ok, **_ERRORS, **(extra or {})}}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": body}
    if parameters:
        operation["parameters"] = parameters
    return {"post": operation}


_NAME_OR_SAMPLE = [
    _param("rrname", "Owner name, *.domain or name.* (this or sample is required)."),
    _param("sample", "SHA-256 of a sandbox sample: the names its analyses asked for."),
]
_OBSERVATION = {
    "type": "object",
    "description": "One observation. A record that does not validate is rejected alone (200, in rejects).",
    "properties": {
        "rrname": _STR,
        "rrtype": {"type": ["string", "integer"]},
        "rdata": {"type": ["string", "array", "null"], "items": _STR},
        "time_first": {"type": "integer", "minimum": 0, "maximum": MAX_TIME},
        "time_last": {"type": "integer", "minimum": 0, "maximum": MAX_TIME},
        "count": {"type": "integer", "minimum": 1, "maximum": MAX_COUNT},
        "ttl": {"type": ["integer", "null"], "minimum": 0, "maximum": 2**31 - 1},
        "rcode": {"type": ["string", "integer", "null"]},
        "bailiwick": {"type": ["string", "null"]},
        "sensor_id": {"type": ["string", "null"]},
        "source": {"type": ["string", "null"]},
        "evidence": _EVIDENCE,
        "sample": {
            "type": ["object", "null"],
            "properties": {"sha256": _STR, "task_id": {"type": ["string", "integer"]}},
        },
    },
}
_BATCH_ID = {"type": "string", "pattern": f"^[\\x20-\\x7e]{{1,{MAX_BATCH_ID}}}$"}
_BULK = {
    "type": "object",
    "required": ["queries"],
    "additionalProperties": False,
    "properties": {
        "queries": {"type": "array", "items": _STR, "minItems": 1},
        "type": _STR,
        "sensor": _STR,
        "evidence": _EVIDENCE,
        "limit": _LIMIT,
        **dict.fromkeys(FENCE_PARAMS, _FENCE),
    },
}
_LABEL = {"type": "string", "maxLength": 100, "pattern": "^[^\\x00-\\x1f\\x7f]*$"}


def _paths() -> dict[str, Any]:
    return {**_ingest_path(), **_query_paths(), **_manage_paths(), **_detection_paths()}


def _ingest_path() -> dict[str, Any]:
    return {
        "/api/v1/ingest": _post(
            "Ingest a batch of observations (sensor token). Header X-Batch-Id makes it idempotent.",
            {
                "application/x-ndjson": {"schema": _OBSERVATION},
                "application/json": {"schema": {"type": "array", "items": _OBSERVATION, "minItems": 1}},
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
            {
                "411": _json(_ERROR, "A body of unknown length this server cannot read: send Content-Length"),
                **_TOO_LARGE,
                "500": _json(_ERROR, "A failure a retry would repeat (a server bug); nothing applied"),
                "503": _json(_ERROR, "Store unavailable; nothing applied: retry"),
            },
            parameters=[
                _param("X-Batch-Id", "1-128 printable ASCII characters; a replay is not applied twice.", _BATCH_ID,
                       "header"),
            ],
        ),
    }


_TLP = _param(
    "tlp",
    "TLP marking of a STIX or MISP export",
    {"type": "string", "enum": ["white", "clear", "green", "amber", "red"]},
)


def _query_paths() -> dict[str, Any]:
    name = [_param("rrname", "Owner name, *.domain or name.*")]
    return {
        "/api/v1/records": _get(
            "Per-RR records: a JSON page, streamed COF NDJSON / CSV (format=cof|csv), or a STIX 2.1 bundle or "
            "MISP event of them (format=stix|misp, marked with tlp=).",
            [
                *_KEYS,
                *_CONTEXT_PARAMS,
                *_FILTERS,
                _param(
                    "format",
                    "json, cof, csv, stix or misp",
                    {"type": "string", "enum": ["json", "cof", "csv", "stix", "misp"]},
                ),
                _TLP,
            ],
            {
                "description": "OK",
                "content": {
                    "application/json": {"schema": _page("records", _RECORD)},
                    "application/x-ndjson": {"schema": _RECORD},
                    "text/csv": {"schema": _STR},
                    "application/stix+json;version=2.1": {"schema": {"type": "object"}},
                },
            },
        ),
        "/api/v1/record": _get(
            "One record with its per-sensor/evidence breakdown and linked sandbox samples.",
            [
                _param("rrname", "Exact owner name"),
                _param("rrtype", "Type"),
                _param("rdata", "Rdata"),
                _param("format", "json, stix or misp", {"type": "string", "enum": ["json", "stix", "misp"]}),
                _TLP,
            ],
            _json(
                {
                    "type": "object",
                    "properties": {"record": _RECORD, "provenance": {"type": "array"}, "samples": {"type": "array"}},
                }
            ),
            _NOT_FOUND,
        ),
        "/api/v1/rrsets": _get(
            "RRset records (DNSDB-style rows).",
            [*name, _param("bailiwick", "Zone"), *_FILTERS],
            _json(_page("rrsets", {"type": "object"})),
        ),
        "/api/v1/negatives": _get(
            "Negative answers (NXDOMAIN, NODATA, SERVFAIL...).",
            [*_NAME_OR_SAMPLE, *_FILTERS],
            _json(_page("negatives", {"type": "object"})),
        ),
        "/api/v1/qnames": _get(
            "Names that were queried (answer unknown).",
            [*_NAME_OR_SAMPLE, *_FILTERS],
            _json(_page("qnames", {"type": "object"})),
        ),
        "/api/v1/bulk": _post(
            "Many lookups in one request; answers stream back as NDJSON lines tagged with their query.",
            {"application/json": {"schema": _BULK}, "text/plain": {"schema": _STR}},
            {"description": "OK", "content": {"application/x-ndjson": {"schema": {"type": "object"}}}},
            _TOO_LARGE,
        ),
        "/api/v1/context/{addr}": _get(
            "An address's context history: every value each enrichment dataset gave it, with the data's date.",
            [_param("addr", "An IPv4 or IPv6 address", where="path") | {"required": True}],
            _json({"type": "object", "properties": {"ip": _STR, "current": _CONTEXT, "history": {"type": "array"}}}),
        ),
        "/api/v1/enrichment": _get(
            "The enrichment datasets in use: name, data date, origin, licence, progress.",
            [], _json({"type": "object", "properties": {"datasets": {"type": "array"}}}),
        ),
        "/api/v1/stats": _get("Store totals and sensor health.", [], _json({"type": "object"})),
        "/api/v1/health": {
            "get": {
                "summary": "Liveness probe (no authentication).",
                "security": [],
                "responses": {"200": _json({"type": "object"}), "503": _json({"type": "object"}, "Unavailable")},
            }
        },
        "/api/v1/ready": {
            "get": {
                "summary": "Readiness: the store takes writes and every migration is applied (no authentication).",
                "security": [],
                "responses": {"200": _json({"type": "object"}), "503": _json({"type": "object"}, "Not ready")},
            }
        },
        "/api/v1/openapi.json": _get("This document.", [], _json({"type": "object"})),
    }


def _detection_paths() -> dict[str, Any]:
    indicator_file = {"text/plain": {"schema": _STR}, "application/json": {"schema": {"type": "object"}}}
    entry = _param("entry_id", "The entry", {"type": "integer"}, "path") | {"required": True}
    alert = _param("alert_id", "The alert", {"type": "integer"}, "path") | {"required": True}
    return {
        "/api/v1/indicators/parse": _post(
            "Read watchlist indicators from a file (format=lines|csv|stix|misp) without storing them.",
            indicator_file,
            _json({"type": "object", "properties": {"indicators": {"type": "array"}, "skipped": {"type": "array"}}}),
            parameters=_IMPORT_PARAMS,
        ),
        "/api/v1/watchlist": {
            **_get("Watchlist entries, newest first.", [], _json({"type": "object"})),
            **_post(
                "Add one watchlist entry (analyst or admin).",
                {"application/json": {"schema": _NEW_ENTRY}},
                _json({"type": "object"}, "Created"),
                status="201",
            ),
        },
        "/api/v1/watchlist/import": _post(
            "Add every indicator of a file to the watchlist (analyst or admin).",
            indicator_file,
            _json({"type": "object"}),
            parameters=_IMPORT_PARAMS,
        ),
        "/api/v1/evidence/import": _post(
            "Store the resolutions of a STIX 2.1 bundle or MISP event as evidence (analyst or admin; at most 2 MiB; "
            "the same file again stores nothing twice).",
            {"application/json": {"schema": {"type": "object"}}},
            _json({"type": "object", "properties": {
                "format": _STR, "sensor": _STR, "observations": {"type": "integer"}, "stored": {"type": "integer"},
                "already_imported": {"type": "integer"}, "rejected": {"type": "integer"},
                "errors": {"type": "object"}, "samples": {"type": "array"}}}),
            {"400": _json({"type": "object"}, "Not a STIX bundle or MISP event, an unknown format, or a sensor that "
                          "is not registered or is revoked"),
             "413": _json({"type": "object"}, "The file is larger than 2 MiB")},
            parameters=[
                _param("format", "stix or misp", _EXCHANGE_FORMAT) | {"required": True},
                _param("sensor", "A registered, active sensor to store the evidence under (as <sensor>/<format>); "
                       "default import. An unknown or revoked sensor is a 400."),
            ],
        ),
        "/api/v1/watchlist/{entry_id}/delete": _post(
            "Remove a watchlist entry and its alerts.", None, _json({"type": "object"}), _NOT_FOUND, parameters=[entry]
        ),
        "/api/v1/alerts": _get(
            "Alerts, newest first, with their workflow state.",
            [
                _param("status", "open, acknowledged or closed", _STATUS),
                _param("entry", "Entry id", {"type": "integer", "minimum": 0}),
                _param("q", "Part of the matched name"),
                _param("assignee", "User name"),
            ],
            _json({"type": "object"}),
        ),
        "/api/v1/alerts/{alert_id}": {
            **_get("One alert.", [alert], _json({"type": "object"}), _NOT_FOUND),
            **_post(
                "Change an alert: status, assignee, comment (analyst or admin).",
                {"application/json": {"schema": _ALERT_CHANGE}},
                _json({"type": "object"}),
                _NOT_FOUND,
                parameters=[alert],
            ),
        },
        "/api/v1/nod": _get(
            "Newly observed names or registered domains, in discovery order, paged by cursor.",
            [*_NOD_PARAMS, _param("limit", "Items per page (1-1000)", {"type": "integer", "minimum": 1})],
            _json({"type": "object"}),
        ),
        "/api/v1/nod/stream": _get(
            "Newly observed names as NDJSON in discovery order from a cursor, following for `follow` seconds.",
            [*_NOD_PARAMS, _param("follow", "Seconds to wait for new names (0-300)", _COUNT)],
            {"description": "OK", "content": {"application/x-ndjson": {"schema": {"type": "object"}}}},
        ),
        "/api/v1/flux": _get(
            "A name's fast-flux score now (Holz et al. 2008), with the counts it is made of.",
            [_param("name", "One exact name") | {"required": True}],
            _json({"type": "object"}),
        ),
        "/api/v1/suspicious": _get(
            "Names last found fast-flux, DGA-like or re-pointed (or with one signal), highest flux score first.",
            [_param("signal", "One signal only", {"type": "string", "enum": ["flux", "dga", "repointed", "young"]})],
            _json({"type": "object"}),
        ),
        "/api/v1/signals/{name}": _get(
            "Every detection signal of a name now: flux score, domain age at first sight, lexical, re-pointing.",
            [_param("name", "One exact name", where="path") | {"required": True}],
            _json({"type": "object"}),
        ),
        "/api/v1/alerts/{alert_id}/export": _get(
            "The alert's record as a STIX 2.1 bundle or MISP event, marked with its entry's TLP.",
            [alert, _param("format", "stix or misp", {"type": "string", "enum": ["stix", "misp"]})],
            {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
            _NOT_FOUND,
        ),
    }


_STATUS = {"type": "string", "enum": ["open", "acknowledged", "closed", ""]}  # empty: any status
_COUNT = {"type": "integer", "minimum": 0}
_NOD_PARAMS = [
    _param("since", "First seen at or after (epoch seconds; negative = now + T)", {"type": "integer"}),
    _param("sensor", "Seen by this sensor (and its sub-sensors)"),
    _param("evidence", "direct, indirect or imported.", _EVIDENCE),
    _param("within", "Only this name and names below it"),
    _param("level", "name or domain (registered domain, eTLD+1)", {"type": "string", "enum": ["name", "domain"]}),
    _param("cursor", "Resume after this cursor (from an item or next_cursor)"),
]
_EXCHANGE_FORMAT = {"type": "string", "enum": ["stix", "misp"]}
_IMPORT_PARAMS = [
    _param("format", "lines, csv, stix or misp", {"type": "string", "enum": ["lines", "csv", "stix", "misp"]}),
    _param("tlp", "TLP level for indicators that carry none"),
]
_NEW_ENTRY = {
    "type": "object",
    "required": ["value"],
    "additionalProperties": False,
    "properties": {
        "value": _STR,
        "kind": {"type": "string", "enum": ["name", "ip", "regex", "nod", "asn"]},
        "label": _STR,
        "tlp": _STR,
        "expires": _STR,
    },
}
_ALERT_CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "status": _STATUS,
        "assignee": _STR,
        "unassign": {"type": "boolean"},
        "comment": _STR,
    },
}


def _manage_paths() -> dict[str, Any]:
    created = {"201": _json({"type": "object"}, "Created; the token is in the answer, once")}
    return {
        "/api/v1/sensors": {
            **_get("List sensors (admin or analyst).", [], _json({"type": "object"})),
            **_post(
                "Create a sensor; its ingest token is in the answer, once.",
                {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["name"],
                            "additionalProperties": False,
                            "properties": {
                                "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"},
                                "description": {**_LABEL, "maxLength": 200},
                            },
                        }
                    }
                },
                created["201"],
                status="201",
            ),
        },
        "/api/v1/sensors/{name}/revoke": _post(
            "Revoke a sensor and its tokens.",
            None,
            _json({"type": "object"}),
            _NOT_FOUND,
            parameters=[_param("name", "The sensor", where="path") | {"required": True}],
        ),
        "/api/v1/tokens": {
            **_get("Your query tokens.", [], _json({"type": "object"})),
            **_post(
                "Create a query token; it is in the answer, once.",
                {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {"name": {**_LABEL, "minLength": 1}},
                        }
                    }
                },
                created["201"],
                status="201",
            ),
        },
        "/api/v1/upstream": {
            **_get("The configured upstream connectors with their quota use (admin or analyst).", [],
                   _json({"type": "object", "properties": {"connectors": {"type": "array"}}})),
            **_post(
                "Ask an upstream pDNS service about an exact name or an address; its answer is stored as imported "
                "evidence (a cached answer is reused; the daily quota holds).",
                {"application/json": {"schema": {
                    "type": "object", "required": ["connector", "query"], "additionalProperties": False,
                    "properties": {"connector": {"type": "string", "enum": ["dnsdb", "circl", "virustotal"]},
                                   "query": _STR}}}},
                _json({"type": "object"}),
                {**_NOT_FOUND, "429": _json(_ERROR, "This server's daily quota for the connector is used up"),
                 "502": _json(_ERROR, "The upstream service failed or refused")},
            ),
        },
        "/api/v1/jobs": _get(
            "The background job queue: depth, running jobs, live workers, recent failures (admin or analyst).",
            [], _json({"type": "object"}),
        ),
        "/api/v1/tokens/{token_id}/revoke": _post(
            "Revoke one of your query tokens.",
            None,
            _json({"type": "object"}),
            _NOT_FOUND,
            parameters=[
                _param("token_id", "The token's id", {"type": "integer", "minimum": 1}, "path") | {"required": True}
            ],
        ),
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
