-- Zone-file times kept apart from traffic times (docs/storage.md, core/windows.py).
-- time_first/time_last stay NOT NULL: the traffic window, or the zone window of a record seen only in zone
-- files (zone_only = 1), so every index, fence, cursor and sort keeps working. zone_time_first/zone_time_last
-- are the zone window, NULL when never seen in zone files. Rows written before this migration were all
-- counted as traffic (zone imports included), and stay so. ADD COLUMN rewrites no row.
ALTER TABLE rr ADD COLUMN zone_time_first INTEGER;
ALTER TABLE rr ADD COLUMN zone_time_last INTEGER;
ALTER TABLE rr ADD COLUMN zone_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rr_seen ADD COLUMN zone_time_first INTEGER;
ALTER TABLE rr_seen ADD COLUMN zone_time_last INTEGER;
ALTER TABLE rr_seen ADD COLUMN zone_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rrset ADD COLUMN zone_time_first INTEGER;
ALTER TABLE rrset ADD COLUMN zone_time_last INTEGER;
ALTER TABLE rrset ADD COLUMN zone_only INTEGER NOT NULL DEFAULT 0;
