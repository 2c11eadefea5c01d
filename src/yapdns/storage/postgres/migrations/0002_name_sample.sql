-- Sample links of negative answers and bare queries (see the SQLite migration of the same name).
CREATE TABLE name_sample (
    rrname_rev text COLLATE "C" NOT NULL,
    rrname text COLLATE "C" NOT NULL,
    rrtype integer NOT NULL,
    rcode text COLLATE "C" NOT NULL,
    sha256 text COLLATE "C" NOT NULL,
    task_id text COLLATE "C" NOT NULL,
    time_first bigint NOT NULL,
    time_last bigint NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (rrname_rev, rrtype, rcode, sha256, task_id)
);
CREATE INDEX name_sample_sha ON name_sample (sha256);
