"""The ingest app keeps no models: what it records per sensor lives in ``sensors.models``."""
