"""Address enrichment: ASN, AS name, routed prefix and country from offline datasets.

``dataset.py`` is the contract a dataset keeps; ``asnumbers.py`` and
``countries.py`` read the ip-location-db data installed into the package
(``rangefile.py``: no download at run time, no account), the default;
``builtin.py`` reads the GeoLite2 data shipped in the geoip2fast package
(opt-in); ``mmdb.py`` reads MaxMind-format files (GeoLite2/GeoIP2, DB-IP,
IPinfo) and reloads one when it changes; ``enricher.py`` walks the store's
new addresses and keeps what each dataset says as history
(``storage/context.py``).
"""
