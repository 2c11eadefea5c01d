"""DNSDB API v2: path routing, lookups, summaries, Flex, SAF framing."""
