-- YAPDNS record store, SQLite schema 1.
-- Names are stored twice: rrname (forward, for right-hand wildcards) and
-- rrname_rev ('com.example.www.', for exact and left-hand wildcard lookups).
-- A/AAAA rdata is also kept as a 16-byte big-endian key in ip (IPv4 mapped
-- into ::ffff:0:0/96), so a CIDR is a range scan on rr_ip.

CREATE TABLE prov (
    id INTEGER PRIMARY KEY,
    sensor TEXT NOT NULL,
    evidence TEXT NOT NULL,
    source TEXT NOT NULL,
    UNIQUE (sensor, evidence, source)
);

CREATE TABLE rr (
    id INTEGER PRIMARY KEY,
    rrname_rev TEXT NOT NULL,
    rrname TEXT NOT NULL,
    rrtype INTEGER NOT NULL,
    rdata TEXT NOT NULL,
    ip BLOB,
    target_rev TEXT,
    time_first INTEGER NOT NULL,
    time_last INTEGER NOT NULL,
    count INTEGER NOT NULL,
    ttl_min INTEGER,
    ttl_max INTEGER,
    UNIQUE (rrname_rev, rrtype, rdata)
);
CREATE INDEX rr_fwd ON rr (rrname);
CREATE INDEX rr_ip ON rr (ip) WHERE ip IS NOT NULL;
CREATE INDEX rr_target ON rr (target_rev) WHERE target_rev IS NOT NULL;
CREATE INDEX rr_rdata ON rr (rdata) WHERE ip IS NULL;
CREATE INDEX rr_first ON rr (time_first);

CREATE TABLE rr_seen (
    rr_id INTEGER NOT NULL,
    prov INTEGER NOT NULL,
    time_first INTEGER NOT NULL,
    time_last INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (rr_id, prov)
) WITHOUT ROWID;

CREATE TABLE rrset (
    id INTEGER PRIMARY KEY,
    rrname_rev TEXT NOT NULL,
    rrname TEXT NOT NULL,
    rrtype INTEGER NOT NULL,
    bailiwick TEXT NOT NULL,
    rdata TEXT NOT NULL,
    time_first INTEGER NOT NULL,
    time_last INTEGER NOT NULL,
    count INTEGER NOT NULL,
    ttl_min INTEGER,
    ttl_max INTEGER,
    UNIQUE (rrname_rev, rrtype, bailiwick, rdata)
);
CREATE INDEX rrset_fwd ON rrset (rrname);

CREATE TABLE negative (
    id INTEGER PRIMARY KEY,
    rrname_rev TEXT NOT NULL,
    rrname TEXT NOT NULL,
    rrtype INTEGER NOT NULL,
    rcode TEXT NOT NULL,
    prov INTEGER NOT NULL,
    time_first INTEGER NOT NULL,
    time_last INTEGER NOT NULL,
    count INTEGER NOT NULL,
    UNIQUE (rrname_rev, rrtype, rcode, prov)
);
CREATE INDEX negative_fwd ON negative (rrname);

CREATE TABLE qname (
    id INTEGER PRIMARY KEY,
    rrname_rev TEXT NOT NULL,
    rrname TEXT NOT NULL,
    rrtype INTEGER NOT NULL,
    prov INTEGER NOT NULL,
    time_first INTEGER NOT NULL,
    time_last INTEGER NOT NULL,
    count INTEGER NOT NULL,
    UNIQUE (rrname_rev, rrtype, prov)
);
CREATE INDEX qname_fwd ON qname (rrname);
CREATE INDEX qname_first ON qname (time_first);

CREATE TABLE rr_sample (
    rr_id INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    task_id TEXT NOT NULL,
    time_first INTEGER NOT NULL,
    time_last INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (rr_id, sha256, task_id)
) WITHOUT ROWID;
CREATE INDEX rr_sample_sha ON rr_sample (sha256);

CREATE TABLE batch (
    sensor TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    applied_at INTEGER NOT NULL,
    accepted INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    PRIMARY KEY (sensor, batch_id)
) WITHOUT ROWID;
CREATE INDEX batch_applied ON batch (applied_at);

CREATE TABLE ingest_hourly (
    hour INTEGER NOT NULL,
    sensor TEXT NOT NULL,
    observations INTEGER NOT NULL,
    new_records INTEGER NOT NULL,
    PRIMARY KEY (hour, sensor)
) WITHOUT ROWID;

CREATE TABLE type_count (
    rrtype INTEGER PRIMARY KEY,
    records INTEGER NOT NULL
);

CREATE TABLE counter (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
