-- The per-name rollup's journal (storage/rollup.py): one row per ingest group, written in the group's own
-- transaction, holding that group's rollup deltas (msgpack). The writer keeps the same deltas in memory,
-- collapsed across groups, and folds them into name_rollup/name_seen_rollup about once a second, deleting the
-- journal rows in the same transaction; rows a crash (or another process) leaves behind are decoded and
-- applied by the next drain of any process. Identity ids are never reused.
CREATE TABLE rollup_journal (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deltas bytea NOT NULL
);
ALTER TABLE rollup_journal ALTER COLUMN deltas SET STORAGE EXTERNAL;
