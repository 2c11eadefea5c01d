"""The detection app's models (none yet: exports read the record store)."""
