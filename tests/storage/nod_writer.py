"""A writer process for the NOD ordering test: ``python -m tests.storage.nod_writer URL PREFIX BATCHES SIZE``.

Opens its own ``PostgresStore`` (its own writer connection, as a second
``yapdns serve`` would) and writes ``BATCHES`` batches of ``SIZE`` new names
``<PREFIX>-<batch>-<i>.nod.example``, then prints ``done``.
"""

from __future__ import annotations

import sys

from yapdns.core.model import Observation
from yapdns.storage.base import BatchRef
from yapdns.storage.postgres.store import PostgresStore


def main(url: str, prefix: str, batches: int, size: int) -> None:
    store = PostgresStore(url)
    try:
        for b in range(batches):
            names = [f"{prefix}-{b}-{i}.nod.example" for i in range(size)]
            store.write([Observation(rrname=n, rrtype="A", rdata=("192.0.2.1",), time_first=1_765_000_000 + b,
                                     time_last=1_765_000_000 + b, sensor_id=prefix) for n in names], BatchRef(prefix, f"{prefix}-{b}"))
    finally:
        store.close()
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
