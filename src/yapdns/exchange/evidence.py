"""A whole exchange file read as evidence: normalized observations, and what was rejected and why.

``read_evidence`` is what the server's evidence upload calls; ``yapdns
import -F stix|misp`` reads through the same readers (via the parsers and
``ParseRun``), so both count the same rejects under the same codes.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from yapdns.core.errors import InvalidObservation
from yapdns.core.model import Observation
from yapdns.core.normalize import normalize_observation
from yapdns.exchange import misp, stix
from yapdns.exchange.errors import BadDocument, Reject

READERS: dict[str, Callable[[bytes, Reject, str], Iterator[Observation]]] = {
    "stix": stix.read_resolutions,
    "misp": misp.read_resolutions,
}


@dataclass
class EvidenceRead:
    """What one file gave: observations to store, rejects counted per reason code, a few samples."""

    observations: list[Observation] = field(default_factory=list)
    rejects: list[tuple[str, str]] = field(default_factory=list)  # (code, message), in the file's order

    def reject(self, message: str, code: str) -> None:
        self.rejects.append((code, message[:300]))

    @property
    def errors(self) -> collections.Counter[str]:
        """Rejects counted per reason code."""
        return collections.Counter(code for code, _ in self.rejects)


def read_evidence(fmt: str, data: bytes) -> EvidenceRead:
    """The resolutions of a ``fmt`` file (``stix`` or ``misp``), each under the sub-sensor named by ``fmt``.

    A file unusable as a whole is one reject (``bad_json``, ``not_a_bundle``,
    ``not_an_event``); an object the validating library refuses, or that
    normalization refuses, is one reject and the others are kept.
    """
    read = EvidenceRead()
    try:
        produced = list(READERS[fmt](data, read.reject, fmt))
    except BadDocument as exc:
        read.reject(str(exc), exc.code)
        return read
    for obs in produced:
        try:
            read.observations.append(normalize_observation(obs))
        except InvalidObservation as exc:
            read.reject(f"{obs.rrname[:80]} {obs.rrtype}: {exc}", exc.code)
    return read
