"""DNSDB API v2 (``/dnsdb/v2/``) and CIRCL pDNS (``/pdns/query/``) compatible query APIs.

Existing clients (dnsdbq, dnsdb2, pypdns, MISP modules, IntelOwl, Cortex)
work against YAPDNS with only the server URL and key changed. The wire
contracts (DNSDB v2 with SAF framing and Flex; CIRCL pDNS COF with dribble
paging) are stated in ``docs/api.md``, with where YAPDNS had to choose.
"""
