"""The ClickHouse store's tables (docs/storage.md, "ClickHouse"), created by ``migrate``.

Two aggregating tables hold everything; each is fed by ONE materialized view from a ``Null`` table, so a
write is one INSERT per table and one block per INSERT (one part: applied whole or not at all):

* ``entry``: every row kind, keyed ``(kind, rrname_rev, rrtype, k1, k2, prov)`` (``Kind`` says what k1
  and k2 hold), in owner-name order;
* ``rdx``: the per-RR rows again, keyed by rdata ``(rkind, rkey, rrname_rev, rrtype, rdata, prov)``: an
  address (32 hex digits of the 16-byte key), a reversed target name, or the rdata text (``RKind``).

Both carry the same aggregate states: first/last traffic time, first/last zone-file time, the TTL range,
the count (split in two sums so no sum overflows 64 bits) and the second a row was first written. A value
that was never seen is stored as a sentinel (``NONE_MIN``/``NONE_MAX``) that the aggregate ignores.
``claim`` (a ``Log`` table: rows kept in insertion order) orders writers racing for one batch id.
"""

from __future__ import annotations

from enum import IntEnum

NONE_MIN = 2**63 - 1  # "never seen" in a min-state column
NONE_MAX = -(2**63)  # "never seen" in a max-state column
LO_BITS = 31  # count = hi << 31 | lo; each sum stays far below 2**63 for 2**32 rows


class Kind(IntEnum):
    """What an ``entry`` row is; ``k1``/``k2`` per kind."""

    RR = 1  # k1 rdata
    RRSET = 2  # k1 bailiwick, k2 rdata joined by newlines; prov 0
    NEGATIVE = 3  # k1 rcode
    QUERY = 4
    SAMPLE = 5  # k1 rdata, k2 "sha256\ttask_id"; prov 0
    NAME_SAMPLE = 6  # k1 rcode, k2 "sha256\ttask_id"; prov 0
    PROV = 7  # rrname_rev sensor, k1 evidence, k2 source, prov its id
    BATCH = 8  # rrname_rev sensor, k1 batch id; tmin accepted, tmax rejected, tf applied at
    HOUR = 9  # rrname_rev sensor, k1 the hour, prov the write's second; tf the hour; the count its observations


class RKind(IntEnum):
    """What ``rdx.rkey`` holds."""

    IP = 1
    TARGET = 2
    RDATA = 3
    BATCH = 255  # rrname_rev sensor, rkey batch id: the marker that this table has the batch


STATES = (  # column, aggregate
    ("tf", "min"),
    ("tl", "max"),
    ("nhi", "sum"),
    ("nlo", "sum"),
    ("tmin", "min"),
    ("tmax", "max"),
    ("ztf", "min"),
    ("ztl", "max"),
    ("ins", "min"),
)
STATE_COLUMNS = tuple(c for c, _ in STATES)
ENTRY_KEY = ("kind", "rrname_rev", "rrtype", "k1", "k2", "prov")
RDX_KEY = ("rkind", "rkey", "rrname_rev", "rrtype", "rdata", "prov")
_KEY_TYPES = {
    "kind": "UInt8",
    "rkind": "UInt8",
    "rrtype": "UInt16",
    "prov": "UInt64",
}


def _engine(table: str, replicated: bool) -> str:
    if not replicated:
        return "AggregatingMergeTree()"
    return f"ReplicatedAggregatingMergeTree('/clickhouse/tables/{{{{shard}}}}/{{db}}/{table}', '{{{{replica}}}}')"


def _table(name: str, key: tuple[str, ...], cluster: str | None, replicated: bool) -> list[str]:
    """The aggregating table, its Null input and the view between them (``_local`` and a ``Distributed``
    table over them in a cluster)."""
    local = f"{name}_local" if cluster else name
    plain = ", ".join(f"{c} {_KEY_TYPES.get(c, 'String')}" for c in key)
    states = ", ".join(f"{c} AggregateFunction({fn}, Int64)" for c, fn in STATES)
    inputs = ", ".join(f"{c} Int64" for c in STATE_COLUMNS)
    select = ", ".join(f"{fn}State({c}) AS {c}" for c, fn in STATES)
    keys = ", ".join(key)
    out = [
        f"CREATE TABLE IF NOT EXISTS {{db}}.{local} ({plain}, {states}) "
        f"ENGINE = {_engine(local, replicated)} ORDER BY ({keys}) SETTINGS index_granularity = 1024",
        f"CREATE TABLE IF NOT EXISTS {{db}}.{name}_in ({plain}, {inputs}) ENGINE = Null",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.{name}_mv TO {{db}}.{local} AS "
        f"SELECT {keys}, {select} FROM {{db}}.{name}_in GROUP BY {keys}",
    ]
    if cluster:
        out.append(
            f"CREATE TABLE IF NOT EXISTS {{db}}.{name} AS {{db}}.{local} "
            f"ENGINE = Distributed({cluster}, {{db}}, {local})"
        )
    return out


def migrations(cluster: str | None = None, replicated: bool = False) -> tuple[tuple[int, str, tuple[str, ...]], ...]:
    """``(version, name, statements)``; each statement formats with ``db``, runs on every node."""
    return (
        *_initial(cluster, replicated),
        *_storage_order(replicated),
    )


def _initial(cluster: str | None, replicated: bool) -> tuple[tuple[int, str, tuple[str, ...]], ...]:
    return (
        (
            1,
            "0001_initial",
            (
                *_table("entry", ENTRY_KEY, cluster, replicated),
                *_table("rdx", RDX_KEY, cluster, replicated),
                "CREATE TABLE IF NOT EXISTS {db}.claim (sensor String, batch_id String, token String, at Int64) "
                "ENGINE = Log",
            ),
        ),
    )


# -- storage order and address context (0003) --------------------------------------------------------------
#
# Not sharded: these tables live on the first shard (its replicas, when replicated), read and written there.
#
# * ``seq_log`` (MergeTree, ordered by ``seq``): one row per A, AAAA and CNAME record (CNAME since 2026-12;
#   before, per name like the others) and per (name, type) of the other records of every write (``rdata`` empty
#   for those), numbered in the order writes were applied
#   (``SEQ_SHIFT``), appended after the write's commit part; ``rrtype`` 0 rows are the write's batch
#   markers (``rrname_rev`` the sensor, ``rdata`` the batch id);
# * ``seq_first`` (fed by a view from ``seq_log``): each record's smallest ``seq``, in key order, so "is this
#   row the record's (or the name's) first?" is a key lookup;
# * ``prune_epoch``: a row per prune that deleted sequence rows (writers then forget which keys they numbered);
# * ``ip_context``: address context rows (``storage/context.py``), ``ip`` the 16-byte key as 32 hex digits
#   (as ``rdx.rkey``) and ``ip_text`` its presentation form (as per-RR rdata).

SEQ_SHIFT = 20  # seq = (write number << SEQ_SHIFT) + the record's index in the write
SEQ_MARKER = 0  # the rrtype of batch-marker rows in seq_log


def _plain_engine(table: str, replicated: bool, engine: str = "MergeTree") -> str:
    if not replicated:
        return f"{engine}()"
    return f"Replicated{engine}('/clickhouse/tables/{{{{shard}}}}/{{db}}/{table}', '{{{{replica}}}}')"


def _storage_order(replicated: bool) -> tuple[tuple[int, str, tuple[str, ...]], ...]:
    return (
        (
            3,  # 2 is left to the per-name rollup (another branch)
            "0003_order_and_context",
            (
                "CREATE TABLE IF NOT EXISTS {db}.seq_log (seq Int64, rrname_rev String, rrtype UInt16, rdata String) "
                f"ENGINE = {_plain_engine('seq_log', replicated)} ORDER BY seq SETTINGS index_granularity = 1024",
                "CREATE TABLE IF NOT EXISTS {db}.seq_first (rrname_rev String, rrtype UInt16, rdata String, "
                "seq AggregateFunction(min, Int64)) "
                f"ENGINE = {_plain_engine('seq_first', replicated, 'AggregatingMergeTree')} "
                "ORDER BY (rrname_rev, rrtype, rdata) SETTINGS index_granularity = 1024",
                "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.seq_first_mv TO {db}.seq_first AS SELECT rrname_rev, "
                "rrtype, rdata, minState(seq) AS seq FROM {db}.seq_log GROUP BY rrname_rev, rrtype, rdata",
                "CREATE TABLE IF NOT EXISTS {db}.ip_context (ip String, source String, data_date Int64, "
                "asn Nullable(Int64), as_name Nullable(String), prefix Nullable(String), country Nullable(String), "
                f"recorded_at Int64, ip_text String) ENGINE = {_plain_engine('ip_context', replicated)} "
                "ORDER BY (ip, source, data_date)",
                f"CREATE TABLE IF NOT EXISTS {{db}}.prune_epoch (at Int64) "
                f"ENGINE = {_plain_engine('prune_epoch', replicated)} ORDER BY at",
            ),
        ),
    )
