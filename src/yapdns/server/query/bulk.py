"""Bulk lookups: many names, addresses or CIDRs answered in one request, within the request's bounds.

``run_bulk`` is the one place a bulk request is run: ``POST /api/v1/bulk`` streams its answers as NDJSON and the
dashboard's bulk search renders them as a table, so both answer the same terms the same way. Each term is parsed
like the query API's ``q`` (``params.record_query``, with the shared parameters in ``common``); the terms after
the row bound or the time budget is used up are answered with an error saying so, never run.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import msgspec

from yapdns.core.errors import InvalidQuery
from yapdns.core.model import Record
from yapdns.server.limits import Budget
from yapdns.server.monitoring.metrics import count_query
from yapdns.server.query import params
from yapdns.storage.base import Store

JSON_PAGE_MAX = 10_000


@dataclass
class BulkAnswer:
    """One term's answer: its records (``limited`` when more matched), or why it was not run."""

    term: str
    records: list[Record] = field(default_factory=list)
    limited: bool = False
    error: str | None = None


def run_bulk(
    store: Store, terms: Sequence[str], common: dict[str, str], rows: int, budget: Budget
) -> Iterator[BulkAnswer]:
    """Answer each term in order, at most ``rows`` records in all, until ``budget`` is spent."""
    for term in terms:
        if rows <= 0 or budget.spent:
            bound = "row limit (YAPDNS_BULK_MAX_ROWS)" if rows <= 0 else "time budget (YAPDNS_REQUEST_TIME_BUDGET)"
            message = f"not run: the request used up its {bound}; send the rest in another request"
            yield BulkAnswer(term, error=message)
            continue
        try:
            query = params.record_query({**common, "q": term}, cap=JSON_PAGE_MAX)
            count_query("bulk", query)
            page = store.records(msgspec.structs.replace(query, limit=min(query.limit, rows)))
        except InvalidQuery as exc:
            yield BulkAnswer(term, error=str(exc))
            continue
        rows -= len(page.rows)
        yield BulkAnswer(term, list(page.rows), page.limited)
