-- The per-name rollup keeps rows only for big names (storage/rollup.py): names with 8 per-RR records or more
-- (rollup.BIG_RECORDS), listed in rollup_big; a smaller name's figures are read from its records by index (a
-- few rows). The writer journals deltas of big names only, and its drain promotes a name that crosses the
-- threshold: it adds it here and fills its rows from its records. A name stays listed once it is (seq: the
-- order of promotions, which each writer follows). The rows of the names listed here are refilled from the
-- records (a writer of this code at schema 0010 keeps no rollup), the others go, and so does the journal (its
-- deltas are in the records).
CREATE TABLE rollup_big (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    rrname_rev TEXT NOT NULL UNIQUE
);
INSERT INTO rollup_big (rrname_rev)
SELECT rrname_rev FROM rr GROUP BY rrname_rev HAVING count(*) >= 8 ORDER BY rrname_rev;
DELETE FROM rollup_journal;
DELETE FROM name_rollup;
INSERT INTO name_rollup
SELECT g.rrname_rev, g.rrtype, g.prov, CASE WHEN g.first THEN coalesce(c.n, 0) ELSE 0 END,
       CASE WHEN g.first THEN coalesce(t.n, 0) ELSE 0 END, g.total, g.tf, g.tl, g.ztf, g.ztl
FROM (SELECT r.rrname_rev, r.rrtype, s.prov, yapdns_count_sum(s.count) AS total,
             min(CASE WHEN s.zone_only THEN NULL ELSE s.time_first END) AS tf,
             max(CASE WHEN s.zone_only THEN NULL ELSE s.time_last END) AS tl,
             min(s.zone_time_first) AS ztf, max(s.zone_time_last) AS ztl,
             s.prov = min(s.prov) OVER (PARTITION BY r.rrname_rev, r.rrtype) AS first
      FROM rollup_big b JOIN rr r ON r.rrname_rev = b.rrname_rev JOIN rr_seen s ON s.rr_id = r.id
      GROUP BY r.rrname_rev, r.rrtype, s.prov) AS g
LEFT JOIN (SELECT r.rrname_rev, r.rrtype, count(*) AS n FROM rollup_big b JOIN rr r ON r.rrname_rev = b.rrname_rev
           GROUP BY r.rrname_rev, r.rrtype) AS c
    ON c.rrname_rev = g.rrname_rev AND c.rrtype = g.rrtype
LEFT JOIN (SELECT s.rrname_rev, s.rrtype, count(*) AS n FROM rollup_big b JOIN rrset s ON s.rrname_rev = b.rrname_rev
           GROUP BY s.rrname_rev, s.rrtype) AS t
    ON t.rrname_rev = g.rrname_rev AND t.rrtype = g.rrtype;
INSERT INTO name_rollup
SELECT s.rrname_rev, s.rrtype, 0, 0, count(*), 0, NULL, NULL, NULL, NULL FROM rollup_big b
JOIN rrset s ON s.rrname_rev = b.rrname_rev
WHERE NOT EXISTS (SELECT 1 FROM name_rollup n WHERE n.rrname_rev = s.rrname_rev AND n.rrtype = s.rrtype)
GROUP BY s.rrname_rev, s.rrtype;
