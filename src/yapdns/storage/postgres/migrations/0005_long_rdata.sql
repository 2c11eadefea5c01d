-- Records of any length (docs/storage.md, "Keys"). A B-tree entry holds at most 2704 bytes, so the unique keys
-- of rr and rrset no longer hold the rdata itself but its SHA-256 (rdata_hash, a generated column), and the
-- rdata index becomes a hash index for equality (any length) plus a B-tree for the name types' ranges (whose
-- rdata is at most a name and a few numbers). The constraints keep their names, so the writers' ON CONFLICT ON
-- CONSTRAINT rr_key / rrset_key is the same statement on either side of this migration.
-- rdata_key is the SHA-256 of the text's UTF-8 bytes: replace + decode('escape') give the bytes through immutable
-- functions only (convert_to is merely stable), which a generated column needs.
CREATE FUNCTION rdata_key(rdata text) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT sha256(decode(replace(rdata, '\', '\\'), 'escape')) $$;

ALTER TABLE rr DROP CONSTRAINT rr_key,
    ADD COLUMN rdata_hash bytea GENERATED ALWAYS AS (rdata_key(rdata)) STORED;
ALTER TABLE rr ADD CONSTRAINT rr_key UNIQUE (rrname_rev, rrtype, rdata_hash);
DROP INDEX rr_rdata;
CREATE INDEX rr_rdata_name ON rr (rdata) WHERE ip IS NULL AND rrtype IN (2, 3, 4, 5, 7, 8, 9, 12, 39);
CREATE INDEX rr_rdata_hash ON rr USING hash (rdata) WHERE ip IS NULL;

ALTER TABLE rrset DROP CONSTRAINT rrset_key,
    ADD COLUMN rdata_hash bytea GENERATED ALWAYS AS (rdata_key(rdata)) STORED;
ALTER TABLE rrset ADD CONSTRAINT rrset_key UNIQUE (rrname_rev, rrtype, bailiwick, rdata_hash);
