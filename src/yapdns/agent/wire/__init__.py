"""DNS on the wire: decoding DNS messages, dnstap frames and captured packets into observations.

This package owns everything the wire sensors (``agent/inputs/dnstap*.py``, ``agent/inputs/pcap*.py``) share:
message decoding (``message``), the rules from a response to observations (``observations``), Frame Streams and
the dnstap protobuf (``fstrm``, ``dnstap``), link/IP/TCP handling and query-response matching (``packet``,
``tcp``, ``session``), and the tuned pcap hot path (``answers``, ``layout``, ``batchloop``, the C helpers in
``_fastwire.c``). Log shipping (prospector, harvester, spool, shipper) lives beside it in ``agent/`` and knows
nothing of DNS messages.
"""
