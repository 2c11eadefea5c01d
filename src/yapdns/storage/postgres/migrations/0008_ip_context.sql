-- Address context history (storage/context.py): what each dataset said about an address, one row per change.
-- ip is the 16-byte key of rr.ip; data_date the dataset's build date; recorded_at when this store kept the row.
CREATE TABLE ip_context (
    ip bytea NOT NULL,
    source text COLLATE "C" NOT NULL,
    data_date bigint NOT NULL,
    asn bigint,
    as_name text COLLATE "C",
    prefix text COLLATE "C",
    country text COLLATE "C",
    recorded_at bigint NOT NULL,
    PRIMARY KEY (ip, source, data_date)
);
CREATE INDEX ip_context_asn ON ip_context (asn) WHERE asn IS NOT NULL;
CREATE INDEX ip_context_country ON ip_context (country) WHERE country IS NOT NULL;
CREATE INDEX ip_context_prefix ON ip_context (prefix) WHERE prefix IS NOT NULL;
