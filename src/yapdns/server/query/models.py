"""The query app keeps no models: it reads the record store (``yapdns.storage``), not the application database."""
