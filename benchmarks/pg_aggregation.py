"""Python pre-aggregation vs SQL GROUP BY for the PostgreSQL write path (the rr + rr_seen upsert).

Same batches, two fresh schemas:

* ``python``: ``BatchAggregate`` folds each group, derived keys are computed once per distinct row,
  the folded rows are COPY-ed and upserted (what ``PostgresApplier`` does);
* ``sql``: one staging row per observation (derived keys computed per observation, cached like the
  store's ``reverse_name``), COPY-ed raw, and folded by ``GROUP BY`` inside the upsert.

Prints client CPU, server CPU and wall per observation for each.

    .venv/bin/python -m benchmarks.pg_aggregation --obs 1000000 --uniques 100000
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from benchmarks.common import CpuMeter, drop_schema, open_bench_store, pg_url
from benchmarks.workload import Universe, observation_batches
from yapdns.core.model import Observation
from yapdns.core.names import reverse_name
from yapdns.core.rdata import ip_key, target_name
from yapdns.core.rrtypes import rrtype_code
from yapdns.storage.aggregate import BatchAggregate
from yapdns.storage.postgres import writer
from yapdns.storage.postgres.store import PostgresStore

_RAW_UPSERT = (
    "WITH up AS (INSERT INTO rr AS t (rrname_rev, rrname, rrtype, rdata, ip, target_rev, time_first, time_last, "
    "count, ttl_min, ttl_max) SELECT rrname_rev, rrname, rrtype, rdata, ip, target_rev, min(tf), max(tl), sum(n), "
    "min(tmin), max(tmax) FROM stage_rr GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 3, 4 "
    f"ON CONFLICT (rrname_rev, rrtype, rdata) DO UPDATE SET {writer._MERGE_TTL} "
    "RETURNING t.id, t.rrname_rev, t.rrtype, t.rdata), "
    "seen AS (INSERT INTO rr_seen AS t (rr_id, prov, time_first, time_last, count) "
    "SELECT up.id, s.prov, min(s.tf), max(s.tl), sum(s.n) FROM up JOIN stage_rr s "
    "ON s.rrname_rev = up.rrname_rev AND s.rrtype = up.rrtype AND s.rdata = up.rdata GROUP BY 1, 2 ORDER BY 1, 2 "
    f"ON CONFLICT (rr_id, prov) DO UPDATE SET {writer._MERGE}) SELECT count(*) FROM up"
)


def raw_rows(observations: list[Observation], prov: int) -> list[tuple[Any, ...]]:
    """One staging row per observation and RR, derived keys computed per row (cached like the store's)."""
    rows: list[tuple[Any, ...]] = []
    for o in observations:
        code = rrtype_code(o.rrtype)
        for rdata in o.rdata:
            target = target_name(code, rdata)
            rows.append((reverse_name(o.rrname), o.rrname, code, rdata, ip_key(code, rdata),
                         reverse_name(target) if target else None, prov, o.time_first, o.time_last, o.count,
                         o.ttl, o.ttl))
    return rows


def run(variant: str, groups: list[list[Observation]]) -> dict[str, Any]:
    schema = f"yapdns_bench_agg_{variant}"
    open_bench_store("postgresql", Path("."), schema, fresh=True).close()
    store = PostgresStore(pg_url(schema))
    applier = writer.PostgresApplier(store._writer_connection, 86400)
    conn = applier.connect()
    prov = applier._prov_ids(conn, {("sensor0", "direct", "zeek")})[("sensor0", "direct", "zeek")]
    meter = CpuMeter("postgresql")
    meter.start()
    for group in groups:
        with conn.transaction():
            if variant == "python":
                agg = BatchAggregate()
                agg.add_all(group)
                folded = agg.fold(dict.fromkeys(agg.prov_keys(), prov))
                writer._upsert_rr(conn, folded)
            else:
                writer._copy(conn, "stage_rr", raw_rows(group, prov))
                conn.execute(_RAW_UPSERT)
    wall, client, server = meter.stop()
    conn.close()
    store.close()
    n = sum(len(g) for g in groups)
    return {"variant": variant, "obs": n, "client_us_per_obs": round(client / n * 1e6, 2),
            "server_us_per_obs": round(server / n * 1e6, 2), "wall_us_per_obs": round(wall / n * 1e6, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--obs", type=int, default=1_000_000)
    parser.add_argument("--uniques", type=int, default=100_000)
    parser.add_argument("--group", type=int, default=250_000, help="observations per transaction")
    args = parser.parse_args()
    universe = Universe(args.uniques)
    obs = [o for _, batch in observation_batches(universe, args.obs, args.group, sensors=1) for o in batch]
    groups = [obs[i : i + args.group] for i in range(0, len(obs), args.group)]
    for variant in ("python", "sql", "python"):
        print(json.dumps(run(variant, groups)), flush=True)
    for variant in ("python", "sql"):
        drop_schema(f"yapdns_bench_agg_{variant}")


if __name__ == "__main__":
    main()
