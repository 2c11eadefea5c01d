"""Sensors (the agents and integrations that ingest) and their ingest tokens."""
