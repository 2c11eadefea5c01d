"""The ClickHouse record store: append, then merge (docs/storage.md, "ClickHouse")."""
