"""Resolutions read from threat-intel exchange files (STIX 2.1 bundles, MISP events) as observations.

Shared by the ``stix`` and ``misp`` parsers (``yapdns import``) and the
server's evidence upload (``server/detection/evidence.py``), so a file reads
the same either way. May import ``core/`` only.
"""
