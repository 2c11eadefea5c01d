"""The own query API under /api/v1/: records, RRsets, negatives, bulk, stats, OpenAPI."""
