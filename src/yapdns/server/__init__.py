"""The Django server: ingest API, query APIs, dashboard and workers."""
