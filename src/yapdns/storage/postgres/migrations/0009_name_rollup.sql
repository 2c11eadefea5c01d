-- Per-name rollup kept by the writer (storage/rollup.py): one row per owner name and RR type, and one per owner
-- name and provenance, so a name's (or a zone's) whole-history figures are read from a few rows at any size.
-- time_first/time_last are the traffic window (NULL when every sighting was in zone files), zone_time_* the
-- zone-file window. records and rrsets count the name's rr and rrset rows of that type. Filled here from the
-- stored records; the writer and the retention prune keep it exact from then on.
CREATE TABLE name_rollup (
    rrname_rev text COLLATE "C" NOT NULL,
    rrtype integer NOT NULL,
    records bigint NOT NULL,
    rrsets bigint NOT NULL,
    count bigint NOT NULL,
    time_first bigint,
    time_last bigint,
    zone_time_first bigint,
    zone_time_last bigint,
    PRIMARY KEY (rrname_rev, rrtype)
) WITH (fillfactor = 80);
CREATE TABLE name_seen_rollup (
    rrname_rev text COLLATE "C" NOT NULL,
    prov integer NOT NULL,
    count bigint NOT NULL,
    time_first bigint,
    time_last bigint,
    zone_time_first bigint,
    zone_time_last bigint,
    PRIMARY KEY (rrname_rev, prov)
) WITH (fillfactor = 80);
INSERT INTO name_rollup
SELECT r.rrname_rev, r.rrtype, r.n, coalesce(s.n, 0), r.total, r.tf, r.tl, r.ztf, r.ztl
FROM (SELECT rrname_rev, rrtype, count(*) AS n, LEAST(sum(count), 4611686018427387904)::bigint AS total,
             min(time_first) FILTER (WHERE NOT zone_only) AS tf, max(time_last) FILTER (WHERE NOT zone_only) AS tl,
             min(zone_time_first) AS ztf, max(zone_time_last) AS ztl
      FROM rr GROUP BY rrname_rev, rrtype) AS r
LEFT JOIN (SELECT rrname_rev, rrtype, count(*) AS n FROM rrset GROUP BY rrname_rev, rrtype) AS s
    ON s.rrname_rev = r.rrname_rev AND s.rrtype = r.rrtype;
INSERT INTO name_seen_rollup
SELECT r.rrname_rev, s.prov, LEAST(sum(s.count), 4611686018427387904)::bigint,
       min(s.time_first) FILTER (WHERE NOT s.zone_only), max(s.time_last) FILTER (WHERE NOT s.zone_only),
       min(s.zone_time_first), max(s.zone_time_last)
FROM rr_seen s JOIN rr r ON r.id = s.rr_id GROUP BY r.rrname_rev, s.prov;
