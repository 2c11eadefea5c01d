-- Zone-file times kept apart from traffic times (see the SQLite migration of the same name).
-- A constant default makes ADD COLUMN a catalog change: no row is rewritten.
ALTER TABLE rr ADD COLUMN zone_time_first bigint, ADD COLUMN zone_time_last bigint,
    ADD COLUMN zone_only boolean NOT NULL DEFAULT false;
ALTER TABLE rr_seen ADD COLUMN zone_time_first bigint, ADD COLUMN zone_time_last bigint,
    ADD COLUMN zone_only boolean NOT NULL DEFAULT false;
ALTER TABLE rrset ADD COLUMN zone_time_first bigint, ADD COLUMN zone_time_last bigint,
    ADD COLUMN zone_only boolean NOT NULL DEFAULT false;
