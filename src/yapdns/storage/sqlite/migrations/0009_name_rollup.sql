-- Per-name rollup kept by the writer (storage/rollup.py): one row per owner name and RR type, and one per owner
-- name and provenance, so a name's (or a zone's) whole-history figures are read from a few rows at any size.
-- time_first/time_last are the traffic window (NULL when every sighting was in zone files), zone_time_* the
-- zone-file window. records and rrsets count the name's rr and rrset rows of that type. Filled here from the
-- stored records; the writer and the retention prune keep it exact from then on.
CREATE TABLE name_rollup (
    rrname_rev TEXT NOT NULL,
    rrtype INTEGER NOT NULL,
    records INTEGER NOT NULL,
    rrsets INTEGER NOT NULL,
    count INTEGER NOT NULL,
    time_first INTEGER,
    time_last INTEGER,
    zone_time_first INTEGER,
    zone_time_last INTEGER,
    PRIMARY KEY (rrname_rev, rrtype)
) WITHOUT ROWID;
CREATE TABLE name_seen_rollup (
    rrname_rev TEXT NOT NULL,
    prov INTEGER NOT NULL,
    count INTEGER NOT NULL,
    time_first INTEGER,
    time_last INTEGER,
    zone_time_first INTEGER,
    zone_time_last INTEGER,
    PRIMARY KEY (rrname_rev, prov)
) WITHOUT ROWID;
INSERT INTO name_rollup
SELECT rrname_rev, rrtype, count(*), 0, yapdns_count_sum(count),
       min(CASE WHEN zone_only THEN NULL ELSE time_first END), max(CASE WHEN zone_only THEN NULL ELSE time_last END),
       min(zone_time_first), max(zone_time_last)
FROM rr GROUP BY rrname_rev, rrtype;
UPDATE name_rollup SET rrsets = (SELECT count(*) FROM rrset s
    WHERE s.rrname_rev = name_rollup.rrname_rev AND s.rrtype = name_rollup.rrtype);
INSERT INTO name_seen_rollup
SELECT r.rrname_rev, s.prov, yapdns_count_sum(s.count),
       min(CASE WHEN s.zone_only THEN NULL ELSE s.time_first END),
       max(CASE WHEN s.zone_only THEN NULL ELSE s.time_last END), min(s.zone_time_first), max(s.zone_time_last)
FROM rr_seen s JOIN rr r ON r.id = s.rr_id GROUP BY r.rrname_rev, s.prov;
