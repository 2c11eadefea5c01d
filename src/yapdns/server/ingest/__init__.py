"""The ingest API: sensors post batches of observations."""
