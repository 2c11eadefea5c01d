"""``PostgresStore``: the production single-node backend.

Selected by ``open_store("postgresql://user@host:port/db")``. Reads use a
``psycopg_pool`` pool of autocommit connections and the shared statements of
``storage/sql.py`` (``SqlReader``). Writes go through a ``GroupWriter``
thread with its own connection, which folds concurrent batches into one
transaction applied by ``PostgresApplier`` (``writer.py``).

``?schema=NAME`` in the URL keeps every table of the store in the
PostgreSQL schema ``NAME`` (created by ``migrate``): one database can hold
several independent stores, and parallel test runs never clash. Other query
parameters are passed to libpq unchanged.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from yapdns.core.errors import ConfigurationError
from yapdns.core.model import Observation
from yapdns.core.normalize import COUNT_CEILING
from yapdns.storage import migrations, prune
from yapdns.storage.base import BatchRef, StoreStats, StoreUnavailable, Then, WriteOutcome
from yapdns.storage.context import ContextSql
from yapdns.storage.flex import FlexQuery, FlexRow
from yapdns.storage.group import GroupWriter
from yapdns.storage.postgres import flex
from yapdns.storage.postgres.horizon import StableEnd
from yapdns.storage.postgres.writer import GROUP_LIMIT, PostgresApplier
from yapdns.storage.prune import PruneReport, RetentionPolicy
from yapdns.storage.reader import SqlReader
from yapdns.storage.rollup import RollupReader
from yapdns.storage.sql import Dialect
from yapdns.storage.summarize import SummarizeReader
from yapdns.storage.summary import SummaryReader

T = TypeVar("T")
_SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,62}")
READY_TIMEOUT = 3.0  # seconds a readiness check waits for a connection (probes time out soon)


def split_url(url: str) -> tuple[str, str | None]:
    """The libpq URL without our ``schema`` parameter, and that schema (validated)."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in params if k == "schema"), None)
    if schema is not None and not _SCHEMA.fullmatch(schema):
        raise ConfigurationError(f"schema must match {_SCHEMA.pattern}, got {schema[:70]!r}")
    query = urlencode([(k, v) for k, v in params if k != "schema"])
    return urlunsplit(parts._replace(query=query)), schema


# SQLSTATE classes a retry can cure: connection exceptions, transaction rollbacks (deadlock, serialization),
# insufficient resources (disk full, too many connections), operator intervention (shutdown, cancel), system errors.
_TRANSIENT_CLASSES = frozenset({"08", "40", "53", "57", "58"})


def transient(exc: BaseException) -> bool:
    """Whether a failed write may succeed when retried (see ``storage/base.py``)."""
    if isinstance(exc, (PoolTimeout, OSError, psycopg.InterfaceError)):
        return True
    if not isinstance(exc, psycopg.Error):
        return False
    state = exc.sqlstate
    if state is None:  # no server answer: the connection failed or was lost
        return isinstance(exc, psycopg.OperationalError)
    return state[:2] in _TRANSIENT_CLASSES


class PostgresStore(SqlReader, RollupReader, SummaryReader, SummarizeReader, ContextSql):
    """The record store in a PostgreSQL database (optionally one schema of it)."""

    name = "postgresql"
    # LEAST ignores NULL, so it would turn the sum of no rows into the ceiling: CASE keeps it NULL
    dialect = Dialect(
        "%s",
        f"CAST(CASE WHEN sum({{0}}) > {COUNT_CEILING} THEN {COUNT_CEILING} ELSE sum({{0}}) END AS BIGINT)",
        rdata_key="rdata_key",  # migration 0005: the unique keys index the rdata's digest
    )
    migrations_package = "yapdns.storage.postgres"
    # RollupReader: a name's two breakdowns from one hash-grouped pass
    group_type_and_prov = True

    def __init__(self, url: str, *, replay_window: int = 7 * 86400, pool_size: int = 8) -> None:
        self._conninfo, self.schema = split_url(url)
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            self._conninfo,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True},
            configure=self._configure,
            open=True,
            name="yapdns-pg-read",
        )
        self._applier = PostgresApplier(self._writer_connection, replay_window)
        self._writer = GroupWriter(
            self._applier,
            group_limit=GROUP_LIMIT,
            threads=1,
            name="pg-writer",
        )
        self._stable = StableEnd(self._pool.connection)

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        if self.schema is not None:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))

    def _writer_connection(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self._conninfo, autocommit=True)
        self._configure(conn)
        return conn

    # -- schema -------------------------------------------------------------

    def migrate(self, through: int | None = None) -> list[str]:
        try:
            return self._writer.call(lambda conn: self._migrate(conn, through))
        except psycopg.errors.ReadOnlySqlTransaction:
            raise ConfigurationError(
                "the record store's PostgreSQL takes no writes (a standby, or default_transaction_read_only): "
                "run `yapdns migrate` against the primary; a server on a standby needs `yapdns serve --no-migrate`"
            ) from None

    def _migrate(self, conn: psycopg.Connection[Any], through: int | None) -> list[str]:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"yapdns-migrate:{self.schema or ''}",))
            if self.schema is not None:
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migration "
                "(version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)"
            )
            applied = {v for (v,) in conn.execute("SELECT version FROM schema_migration").fetchall()}

            def run(version: int, name: str, text: str) -> None:
                conn.execute(text.encode())  # several statements, no parameters
                if name in migrations.STEPS:
                    migrations.STEPS[name](migrations.ConnectionDb(conn, "%s"))
                conn.execute(
                    "INSERT INTO schema_migration VALUES (%s, %s, %s)", (version, name, int(time.time()))
                )

            return migrations.apply_all(self.migrations_package, applied, run, through)

    def readiness(self) -> list[str]:
        """Problems that stop writes: pending migrations, or a read-only (standby) server.

        Asked on a reading connection: the writer's own cannot even open on a standby (it makes temporary
        staging tables), which would hide the reason behind "cannot be reached"."""
        try:
            with self._pool.connection(timeout=READY_TIMEOUT) as conn:
                return self._readiness(conn)
        except (psycopg.Error, PoolTimeout, OSError) as exc:  # the reason names hosts: only its kind is shown
            return [f"PostgreSQL cannot be reached ({type(exc).__name__})"]

    def pending_migrations(self) -> list[str]:
        """The names of the migrations ``migrate`` would apply, in order."""
        return migrations.pending_names(self.migrations_package, self._writer.call(self._applied))

    @staticmethod
    def _applied(conn: psycopg.Connection[Any]) -> set[int]:
        known = conn.execute("SELECT to_regclass('schema_migration') IS NOT NULL").fetchone()
        rows = conn.execute("SELECT version FROM schema_migration").fetchall() if known and known[0] else []
        return {int(v) for (v,) in rows}

    def _readiness(self, conn: psycopg.Connection[Any]) -> list[str]:
        with conn.transaction():
            applied = self._applied(conn)
            (read_only,) = conn.execute("SHOW transaction_read_only").fetchone() or ("off",)
            (standby,) = conn.execute("SELECT pg_is_in_recovery()").fetchone() or (False,)
        problems = migrations.pending_problem(self.migrations_package, applied)
        if standby:
            problems.append("read-only: the record store's PostgreSQL is a standby (in recovery) and takes no "
                            "writes; point the server at the primary")
        elif read_only == "on":
            problems.append("read-only: the record store's PostgreSQL takes no writes "
                            "(default_transaction_read_only is on)")
        return problems

    # -- retention ----------------------------------------------------------

    def prune(self, policy: RetentionPolicy, *, dry_run: bool = False) -> PruneReport:
        """Apply ``policy`` (``storage/prune.py``) in chunks on the writer; run VACUUM (ANALYZE) after a big one."""
        return prune.apply_policy(lambda fn: self._writer.call(lambda conn: self._transaction(conn, fn)),
                                  policy, dry_run, count_sum=self.dialect.count_sum("{0}"),
                                  drain=lambda db: self._applier.drain_in(cast(migrations.ConnectionDb, db).connection))

    def flush_rollup(self) -> None:
        """Fold the writer's pending per-name rollup deltas into the rollup tables now (``storage/rollup.py``);
        other processes' pending deltas are theirs to drain (within ``FLUSH_SECONDS`` or so)."""
        self._writer.call(self._applier.flush)

    def _rollup_current(self) -> None:
        if self._applier.pending.waiting and not self._writer.in_writer_thread():
            self.flush_rollup()

    @staticmethod
    def _transaction(conn: psycopg.Connection[Any], fn: Callable[[migrations.MigrationDb], T]) -> T:
        with conn.transaction():
            return fn(migrations.ConnectionDb(conn, "%s"))

    # -- writes -------------------------------------------------------------

    def write(
        self, observations: Sequence[Observation], batch: BatchRef | None = None, then: Sequence[Then] = ()
    ) -> WriteOutcome:
        try:
            return self._writer.write(list(observations), batch, then)
        except (psycopg.Error, PoolTimeout, OSError) as exc:
            if transient(exc):
                raise StoreUnavailable(f"PostgreSQL: {exc}") from exc
            raise

    def _in_write_transaction(self, fn: Callable[[migrations.MigrationDb], int]) -> int:
        def run(conn: psycopg.Connection[Any]) -> int:
            with conn.transaction():
                return fn(migrations.ConnectionDb(conn, "%s"))

        try:
            return self._writer.call(run)
        except (psycopg.Error, PoolTimeout, OSError) as exc:
            if transient(exc):
                raise StoreUnavailable(f"PostgreSQL: {exc}") from exc
            raise

    def _p(self, text: str) -> str:
        return text.replace("?", "%s")

    # -- reads --------------------------------------------------------------

    def _rows(self, text: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        with self._pool.connection() as conn:
            return conn.execute(text.encode(), params).fetchall()

    def _stable_end(self, after: int) -> int | None:
        """Reads in storage order stop where no writer process can still commit a smaller id (``horizon.py``)."""
        return self._stable.get(after)

    def iter_flex(self, query: FlexQuery) -> Iterator[FlexRow]:
        return flex.iter_flex(self._rows, query)

    def stats(self) -> StoreStats:
        counters, by_type = self._totals()
        (size,) = self._rows(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        )[0]
        return StoreStats(backend=self.name, **counters, records_by_type=by_type, size_bytes=int(size))

    def close(self) -> None:
        self._writer.stop()
        self._pool.close()
