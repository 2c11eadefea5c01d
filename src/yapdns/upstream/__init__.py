"""Connectors to other passive DNS services: ask them about a name or an address, get observations back.

Each connector (``dnsdb.py``, ``circl.py``, ``virustotal.py``) is opt-in (it
exists only when its key is set, ``registry.configured``) and turns the
service's answer into ``imported`` observations labelled with its name as
``source``; the server applies them, caches answers and counts quotas
(``server/enrichment/upstream.py``).
"""
