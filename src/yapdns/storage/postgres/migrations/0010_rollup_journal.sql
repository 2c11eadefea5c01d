-- The per-name rollup becomes ONE table keyed by owner name, RR type and provenance (storage/rollup.py): the
-- writer upserts one row per key instead of one per name and type plus one per name and provenance. records
-- and rrsets (the name's rr and rrset rows of that type) sit on the row of the type's lowest provenance id
-- (prov 0: RRsets of a type without any record). Filled here from the stored records.
-- rollup_journal: one row per ingest group, written as the group transaction's last statement, holding that
-- group's deltas (msgpack); the writer keeps them in memory too, collapsed across groups, and folds them into
-- name_rollup about once a second, deleting the journal rows in the same transaction; rows a crash (or another
-- process) leaves behind are decoded by the next drain of any process. Identity ids are never reused.
CREATE TABLE rollup_journal (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deltas bytea NOT NULL
);
ALTER TABLE rollup_journal ALTER COLUMN deltas SET STORAGE EXTERNAL;
DROP TABLE name_seen_rollup;
DROP TABLE name_rollup;
CREATE TABLE name_rollup (
    rrname_rev text COLLATE "C" NOT NULL,
    rrtype integer NOT NULL,
    prov integer NOT NULL,
    records bigint NOT NULL,
    rrsets bigint NOT NULL,
    count bigint NOT NULL,
    time_first bigint,
    time_last bigint,
    zone_time_first bigint,
    zone_time_last bigint,
    PRIMARY KEY (rrname_rev, rrtype, prov)
) WITH (fillfactor = 80);
INSERT INTO name_rollup
SELECT g.rrname_rev, g.rrtype, g.prov, CASE WHEN g.first THEN coalesce(c.n, 0) ELSE 0 END,
       CASE WHEN g.first THEN coalesce(t.n, 0) ELSE 0 END, g.total, g.tf, g.tl, g.ztf, g.ztl
FROM (SELECT r.rrname_rev, r.rrtype, s.prov, LEAST(sum(s.count), 4611686018427387904)::bigint AS total,
             min(s.time_first) FILTER (WHERE NOT s.zone_only) AS tf,
             max(s.time_last) FILTER (WHERE NOT s.zone_only) AS tl,
             min(s.zone_time_first) AS ztf, max(s.zone_time_last) AS ztl,
             s.prov = min(s.prov) OVER (PARTITION BY r.rrname_rev, r.rrtype) AS first
      FROM rr_seen s JOIN rr r ON r.id = s.rr_id GROUP BY r.rrname_rev, r.rrtype, s.prov) AS g
LEFT JOIN (SELECT rrname_rev, rrtype, count(*) AS n FROM rr GROUP BY rrname_rev, rrtype) AS c
    ON c.rrname_rev = g.rrname_rev AND c.rrtype = g.rrtype
LEFT JOIN (SELECT rrname_rev, rrtype, count(*) AS n FROM rrset GROUP BY rrname_rev, rrtype) AS t
    ON t.rrname_rev = g.rrname_rev AND t.rrtype = g.rrtype;
INSERT INTO name_rollup
SELECT rrname_rev, rrtype, 0, 0, count(*), 0, NULL, NULL, NULL, NULL FROM rrset s
WHERE NOT EXISTS (SELECT 1 FROM name_rollup n WHERE n.rrname_rev = s.rrname_rev AND n.rrtype = s.rrtype)
GROUP BY rrname_rev, rrtype;
