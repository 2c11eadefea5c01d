-- The per-name rollup's journal (storage/rollup.py): one row per ingest group, written in the group's own
-- transaction, holding that group's rollup deltas (msgpack). The writer keeps the same deltas in memory,
-- collapsed across groups, and folds them into name_rollup/name_seen_rollup about once a second, deleting the
-- journal rows in the same transaction; rows a crash leaves behind are decoded and applied by the next drain.
-- AUTOINCREMENT: an id is never reused, so a writer never mistakes another writer's row for one of its own.
CREATE TABLE rollup_journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    deltas BLOB NOT NULL
);
