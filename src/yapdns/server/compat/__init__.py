"""DNSDB API v2 (``/dnsdb/v2/``) and CIRCL pDNS (``/pdns/query/``) compatible query APIs.

Existing clients (dnsdbq, dnsdb2, pypdns, MISP modules, IntelOwl, Cortex)
work against YAPDNS with only the server URL and key changed. The wire
contracts are those of Farsight's DNSDB API v2 and CIRCL's pDNS (COF) documentation; ``docs/api.md`` says
where YAPDNS had to choose.
"""
