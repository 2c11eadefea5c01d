"""The boundary between the wire decoder in Python and its C helpers (``_fastwire.c``): every shape that crosses it.

Each value that crosses has named fields, declared once on each side: in
Python by the class or constant below, in C by an X-macro list in
``boundary.h`` that makes both the C enum or struct and the names the built
module exports in ``_fastwire.SHAPES`` (a tuple for a shape read or built by
position, a frozenset for an object read by attribute name).

============  ======================================  ==========================================================
shape         Python declaration                      what crosses
============  ======================================  ==========================================================
ScanState     ``batchloop.ScanState`` (slots)         ``scan``: what the batch loop reads, and its counts
Fold          ``answers.Fold`` (slots)                ``scan``, ``fold``: folded sightings by template id
FoldNumbers   ``answers.FOLD_FIELDS``                 one folded RRset's numbers, a bytearray (``answers.FOLD``)
FoldEntry     ``answers.ENTRY_FIELDS``                a variant's fold entries, tuples
Layout        ``answers.Layout`` (NamedTuple)         ``scan`` reads layouts by header + question
Walk          ``layout.Walk`` (NamedTuple)            ``walk``, and ``scan``'s call of ``AnswerLayouts.learn``
DnsResponse   ``message.RESPONSE_FIELDS``             ``decode``: the arguments of ``DnsResponse``
RR            ``message.RR_FIELDS``                   ``decode``: each answer record
============  ======================================  ==========================================================

``c_helper`` binds a helper only when the built module declares, for
every shape the helper uses, the same fields (in the same order, for a
positional shape) as Python. Otherwise it logs why and returns None: the
Python reference runs (same results, slower) and
``tests/agent/wire/test_boundary.py`` fails. A change to one side can
therefore never make C read or build a field the other side does not
mean.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

Shape = tuple[str, ...] | frozenset[str]


def by_name(fields: Iterable[str]) -> frozenset[str]:
    """The declaration of a shape read by attribute name (its ``__slots__``): order does not matter."""
    return frozenset(fields)


def disagreements(declared: dict[str, Shape], module: Any) -> list[str]:
    """How the built module's ``SHAPES`` differ from ``declared`` (Python's), one line per shape; [] when equal."""
    built: dict[str, Shape] = getattr(module, "SHAPES", {})
    return [
        f"{shape}: Python {sorted(fields) if isinstance(fields, frozenset) else list(fields)}, "
        f"C {built.get(shape)!r}"
        for shape, fields in declared.items()
        if built.get(shape) != fields
    ]


def c_helper(name: str, uses: dict[str, Shape]) -> Any | None:
    """The C helper ``name`` when ``_fastwire`` is built and agrees on every shape in ``uses``; else None."""
    try:
        from yapdns.agent.wire import _fastwire
    except ImportError:  # not built (no C compiler where it was installed): the Python reference runs
        return None
    problems = disagreements(uses, _fastwire)
    if problems:
        log.warning("C helper %s not used: its build disagrees with the Python side (%s); rebuild with "
                    "`pip install -e .`", name, "; ".join(problems))  # fmt: skip
        return None
    return getattr(_fastwire, name)
