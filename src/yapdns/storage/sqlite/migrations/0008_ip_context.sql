-- Address context history (storage/context.py): what each dataset said about an address, one row per change.
-- ip is the 16-byte key of rr.ip; data_date the dataset's build date; recorded_at when this store kept the row.
CREATE TABLE ip_context (
    ip BLOB NOT NULL,
    source TEXT NOT NULL,
    data_date INTEGER NOT NULL,
    asn INTEGER,
    as_name TEXT,
    prefix TEXT,
    country TEXT,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (ip, source, data_date)
) WITHOUT ROWID;
CREATE INDEX ip_context_asn ON ip_context (asn) WHERE asn IS NOT NULL;
CREATE INDEX ip_context_country ON ip_context (country) WHERE country IS NOT NULL;
CREATE INDEX ip_context_prefix ON ip_context (prefix) WHERE prefix IS NOT NULL;
