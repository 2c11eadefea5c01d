"""The monitoring app keeps no models: metrics live in the process (or gunicorn's metrics directory)."""
