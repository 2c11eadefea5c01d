"""Address enrichment: ASN, AS name, routed prefix and country from offline datasets.

``dataset.py`` is the contract a dataset keeps; ``builtin.py`` reads the data
shipped in the geoip2fast package (no download, no account); ``mmdb.py`` reads
MaxMind-format files (GeoLite2/GeoIP2, DB-IP, IPinfo) and reloads one when it
changes; ``enricher.py`` walks the store's new addresses and keeps what each
dataset says as history (``storage/context.py``).
"""
