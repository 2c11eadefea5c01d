-- Sample links of negative answers and bare queries: which sandbox analyses asked for a name that did not
-- resolve (NXDOMAIN, NODATA...) or whose answer was not recorded. rcode is '' for a bare query.
CREATE TABLE name_sample (
    rrname_rev TEXT NOT NULL,
    rrname TEXT NOT NULL,
    rrtype INTEGER NOT NULL,
    rcode TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    task_id TEXT NOT NULL,
    time_first INTEGER NOT NULL,
    time_last INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (rrname_rev, rrtype, rcode, sha256, task_id)
) WITHOUT ROWID;
CREATE INDEX name_sample_sha ON name_sample (sha256);
