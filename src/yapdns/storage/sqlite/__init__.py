"""The embedded SQLite backend: a file in the data directory, WAL mode, one writer thread."""
