"""The own query API: records (JSON page, or streamed COF/CSV), RRsets, negatives, bare queries, one record's
detail, bulk lookups, stats and the health probe.

Every lookup answers in a stable order. JSON answers are pages carrying
``limited`` and ``next_cursor``; COF NDJSON and CSV stream up to ``limit``
rows. Bad parameters get 400 with a message saying what to fix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import msgspec
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from yapdns import __version__
from yapdns.core import cof
from yapdns.core.errors import InvalidQuery
from yapdns.core.model import Record
from yapdns.server.detection import tlp as tlp_levels
from yapdns.server.detection.export import EXPORT_FORMATS, EXPORT_MAX, export_response
from yapdns.server.enrichment import services as enrichment
from yapdns.server.limits import Budget, RequestLimits, clamped, mark_results_max
from yapdns.server.monitoring.metrics import count_query
from yapdns.server.query import params
from yapdns.server.query.bulk import run_bulk
from yapdns.server.security import Principal, api_view, charge_quota, error, public
from yapdns.server.store import get_store
from yapdns.storage.base import Store
from yapdns.storage.query import NameMatch, Page, RecordQuery, TypeFilter

JSON_PAGE_MAX = 10_000
STREAM_DEFAULT_LIMIT = 10_000
FORMATS = {"json", "cof", "csv", *EXPORT_FORMATS}
ORIGIN = "urn:yapdns"


def _records_json(store: Store, page: Page[Record]) -> JsonResponse:
    """A records page; A/AAAA records carry ``context`` (AS, prefix, country as of their last sighting)."""
    annotator = enrichment.ContextAnnotator(store)
    rows = []
    for record in annotator.annotate(page.rows):
        data = _builtins(record)
        found = annotator.context(record)
        if found is not None:
            data["context"] = enrichment.context_json(found)
        rows.append(data)
    return JsonResponse({"records": rows, "limited": page.limited, "next_cursor": page.next_cursor})


def _page_json(page: Page[Any], key: str) -> JsonResponse:
    return JsonResponse(
        {key: [_builtins(r) for r in page.rows], "limited": page.limited, "next_cursor": page.next_cursor}
    )


def _builtins(row: Any) -> Any:
    """A row as JSON: records, RRsets and provenance with COF time keys (``cof.with_windows``)."""
    return cof.with_windows(row) if hasattr(row, "zone_only") else msgspec.to_builtins(row)


def _guarded(fn: Callable[[], HttpResponseBase]) -> HttpResponseBase:
    try:
        return fn()
    except (InvalidQuery, tlp_levels.UnknownTlp) as exc:
        return error(400, str(exc))


def _tlp(request: HttpRequest) -> str | None:
    return tlp_levels.parse(request.GET.get("tlp"))


@api_view("query")
def records(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    """``GET /api/v1/records?q=...``: per-RR records as JSON, COF NDJSON, CSV, STIX 2.1 or MISP (``&tlp=``)."""
    fmt = request.GET.get("format", "json")
    if fmt not in FORMATS:
        return error(400, f"format must be one of {', '.join(sorted(FORMATS))}")

    def run() -> HttpResponseBase:
        if fmt in EXPORT_FORMATS:
            query = params.record_query(request.GET, default_limit=1000, cap=EXPORT_MAX)
            title = f"YAPDNS records for {request.GET.get('q', '')}"[:200]
            return export_response(get_store().iter_records(query), fmt, _tlp(request), title)
        if fmt == "json":
            query = params.record_query(request.GET, cap=JSON_PAGE_MAX)
            count_query("api", query)
            response: HttpResponseBase = _records_json(get_store(), get_store().records(query))
            cap, default = JSON_PAGE_MAX, params.DEFAULT_LIMIT
        else:
            query = params.record_query(request.GET, default_limit=STREAM_DEFAULT_LIMIT)
            count_query("api", query)
            response = stream_records(get_store(), query, fmt)
            cap, default = int(settings.RESULTS_MAX), STREAM_DEFAULT_LIMIT
        requested = params.integer(request.GET, "limit", default, minimum=0)
        return mark_results_max(response, cap) if clamped(requested or 0, cap) else response

    return _guarded(run)


def stream_records(store: Store, query: RecordQuery, fmt: str) -> StreamingHttpResponse:
    """COF NDJSON or CSV, streamed page by page with flat memory."""
    rows = store.iter_records(query)
    if fmt == "csv":
        annotator = enrichment.ContextAnnotator(store)
        csv = cof.csv_lines(annotator.annotate(rows), extra_fields=enrichment.CSV_FIELDS, extra=annotator.csv_cells)
        response = StreamingHttpResponse(csv, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="yapdns-records.csv"'
        return response
    lines = cof.ndjson_lines(cof.to_cof(r, ORIGIN) for r in rows)
    return StreamingHttpResponse(lines, content_type="application/x-ndjson")


@api_view("query")
def rrsets(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    """``GET /api/v1/rrsets?rrname=...[&bailiwick=]``: RRset records."""

    def run() -> HttpResponseBase:
        query = _name_query(request)
        bailiwick = request.GET.get("bailiwick")
        if bailiwick:
            query = msgspec.structs.replace(query, bailiwick=NameMatch.parse(bailiwick).name)
        return _page_json(get_store().rrsets(query), "rrsets")

    return _guarded(run)


@api_view("query")
def negatives(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    """``GET /api/v1/negatives?rrname=...`` (or ``?sample=<sha256>``): NXDOMAIN/NODATA/... aggregates."""
    return _guarded(lambda: _page_json(get_store().negatives(_name_query(request)), "negatives"))


@api_view("query")
def qnames(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    """``GET /api/v1/qnames?rrname=...`` (or ``?sample=<sha256>``): names asked for (answer unknown)."""
    return _guarded(lambda: _page_json(get_store().queries(_name_query(request)), "qnames"))


def _name_query(request: HttpRequest) -> RecordQuery:
    given = {k: v for k, v in request.GET.dict().items() if k not in ("q", "ip", "rdata_name", "rdata")}
    if not (given.get("rrname") or given.get("sample")):
        raise InvalidQuery("rrname (a name, *.domain or name.*) or sample (a SHA-256) is required")
    query = params.record_query(given, cap=JSON_PAGE_MAX)
    count_query("api", query)
    return query


@api_view("query")
def record_detail(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    """``GET /api/v1/record?rrname=&rrtype=&rdata=``: one record, who saw it, and linked samples
    (``&format=stix`` or ``misp``, ``&tlp=``: the record alone, exported)."""
    fmt = request.GET.get("format", "json")
    if fmt not in {"json", *EXPORT_FORMATS}:
        return error(400, "format must be json, stix or misp")

    def run() -> HttpResponseBase:
        rrname, rrtype, rdata = params.record_key(request.GET)
        store = get_store()
        found = [
            r
            for r in store.records(
                RecordQuery(rrname=NameMatch("exact", rrname), types=TypeFilter.parse(rrtype), limit=1000)
            ).rows
            if r.rdata == rdata
        ]
        if not found:
            return error(404, "no such record")
        if fmt in EXPORT_FORMATS:
            return export_response(found[:1], fmt, _tlp(request), f"YAPDNS record {rrname} {rrtype} {rdata}"[:200])
        return JsonResponse(
            {
                "record": cof.with_windows(found[0]),
                "provenance": [cof.with_windows(p) for p in store.provenance(rrname, rrtype, rdata)],
                "samples": msgspec.to_builtins(store.samples(rrname, rrtype, rdata)),
            }
        )

    return _guarded(run)


class _BulkRequest(msgspec.Struct, forbid_unknown_fields=True):
    queries: list[str]
    type: str | None = None
    sensor: str | None = None
    evidence: str | None = None
    limit: int = 100
    time_first_before: int | None = None
    time_first_after: int | None = None
    time_last_before: int | None = None
    time_last_after: int | None = None


@api_view("query", methods=("POST",), charge=False)
def bulk(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    """``POST /api/v1/bulk``: many names/IPs/CIDRs in one request, answered as streamed NDJSON.

    Body: ``{"queries": [...], "type": ..., "limit": N, <fences>}`` or plain
    text with one term per line. Each answer line is a record with a
    ``query`` field; each query ends with ``{"query": q, "done": true,
    "limited": bool}`` (or ``"error"``). Bounded (``server/limits.py``): at
    most ``YAPDNS_BULK_MAX_QUERIES`` queries (413), ``YAPDNS_BULK_MAX_ROWS``
    rows in all and ``YAPDNS_REQUEST_TIME_BUDGET`` seconds; the queries past
    a bound answer with an error line saying so.
    """
    limits = RequestLimits.from_settings()
    try:
        spec = _bulk_spec(request)
        common = {k: str(v) for k, v in msgspec.structs.asdict(spec).items() if v is not None and k != "queries"}
        params.record_query({**common, "q": "example.com"}, cap=JSON_PAGE_MAX)  # the shared parameters, checked once
    except (msgspec.DecodeError, InvalidQuery, UnicodeDecodeError) as exc:
        return error(400, f"bad bulk request: {exc}")
    except RecursionError:
        return error(400, "bad bulk request: the JSON is nested too deeply")
    except RequestDataTooBig:
        return error(413, "the bulk request body is too large; send fewer queries per request")
    if not spec.queries:
        return error(400, "send at least one query")
    if len(spec.queries) > limits.bulk_queries:
        return error(413, f"send at most {limits.bulk_queries} queries per request (YAPDNS_BULK_MAX_QUERIES)")
    refused = charge_quota(principal, len(spec.queries))  # each query of the batch counts
    return refused or StreamingHttpResponse(
        _bulk_lines(get_store(), spec.queries, common, limits.bulk_rows, limits.budget()),
        content_type="application/x-ndjson",
    )


def _bulk_spec(request: HttpRequest) -> _BulkRequest:
    if (request.content_type or "").startswith("text/plain"):
        terms = [t.strip() for t in request.body.decode("utf-8").splitlines() if t.strip()]
        return _BulkRequest(queries=terms, type=request.GET.get("type"), sensor=request.GET.get("sensor"))
    return msgspec.json.decode(request.body, type=_BulkRequest)


def _bulk_lines(store: Store, terms: list[str], common: dict[str, str], rows: int, budget: Budget) -> Iterator[bytes]:
    encode = msgspec.json.encode
    for answer in run_bulk(store, terms, common, rows, budget):
        if answer.error is not None:
            yield encode({"query": answer.term, "done": True, "error": answer.error}) + b"\n"
            continue
        for rec in answer.records:
            yield encode({"query": answer.term, **cof.to_json(rec)}) + b"\n"
        yield encode({"query": answer.term, "done": True, "limited": answer.limited}) + b"\n"


@api_view("query")
def stats(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    """``GET /api/v1/stats``: store totals and sensor health."""
    from yapdns.server.sensors.models import Sensor

    sensors = [
        {
            "name": s.name,
            "active": s.active,
            "last_seen_at": s.last_seen_at.isoformat() if s.last_seen_at else None,
            "batches": s.batches_total,
            "accepted": s.accepted_total,
            "rejected": s.rejected_total,
            "replayed": s.replayed_total,
            "refused": s.refused_total,
            "failed": s.failed_total,
        }
        for s in Sensor.objects.all()
    ]
    return JsonResponse({"store": msgspec.to_builtins(get_store().stats()), "sensors": sensors})


@public
def health(request: HttpRequest) -> HttpResponseBase:
    """``GET /api/v1/health``: liveness and store reachability, without any data."""
    try:
        get_store().stats()
    except Exception:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "version": __version__})
