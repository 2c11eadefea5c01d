"""What is (and is not) inferred from Zeek's untyped answer vectors."""

from __future__ import annotations

from yapdns.agent.parsers._zeek_answers import RRset, classify, reconstruct


def test_cname_chain_then_addresses_of_the_last_name() -> None:
    # Real row (zeek btest duplicate-reponses): an RRSIG sits between the chain links.
    rebuilt = reconstruct(
        "www.cmu.edu", "A",
        ["www-cmu.andrew.cmu.edu", "RRSIG 5 cmu.edu", "www-cmu-2.andrew.cmu.edu", "128.2.10.163"],
        [86400, 86400, 5, 21600],
    )  # fmt: skip
    assert rebuilt.rrsets == [
        RRset("www.cmu.edu", "CNAME", ("www-cmu.andrew.cmu.edu",), 86400),
        RRset("www-cmu.andrew.cmu.edu", "CNAME", ("www-cmu-2.andrew.cmu.edu",), 5),
        RRset("www-cmu-2.andrew.cmu.edu", "A", ("128.2.10.163",), 21600),
    ]
    assert rebuilt.chain_end == "www-cmu-2.andrew.cmu.edu"


def test_addresses_form_one_rrset_per_family_with_the_smallest_ttl() -> None:
    rebuilt = reconstruct("dns.example", "ANY", ["192.0.2.1", "2001:db8::1", "192.0.2.2"], [30, 40, 20])
    assert rebuilt.rrsets == [
        RRset("dns.example", "A", ("192.0.2.1", "192.0.2.2"), 20),
        RRset("dns.example", "AAAA", ("2001:db8::1",), 40),
    ]


def test_txt_strings_are_rebuilt_from_their_lengths() -> None:
    value = 'TXT 12 a, "b" TXT c TXT 3 \\\\x'
    kind, rdata = classify(value)
    assert kind == "TXT"
    assert rdata == '"a, \\"b\\" TXT c" "\\\\\\\\x"'


def test_txt_with_a_wrong_length_is_not_used() -> None:
    assert classify("TXT 50 too short")[0] == "skip"


def test_ptr_answers_of_a_ptr_query() -> None:
    rebuilt = reconstruct("195.193.58.216.in-addr.arpa", "PTR", ["a.1e100.net", "b.1e100.net"], [49185, 49185])
    assert rebuilt.rrsets == [RRset("195.193.58.216.in-addr.arpa", "PTR", ("a.1e100.net", "b.1e100.net"), 49185)]


def test_rfc2317_classless_reverse_chain() -> None:
    rebuilt = reconstruct("10.2.0.192.in-addr.arpa", "PTR", ["10.0-25.2.0.192.in-addr.arpa", "host.example"], [60, 70])
    assert rebuilt.rrsets == [
        RRset("10.2.0.192.in-addr.arpa", "CNAME", ("10.0-25.2.0.192.in-addr.arpa",), 60),
        RRset("10.0-25.2.0.192.in-addr.arpa", "PTR", ("host.example",), 70),
    ]


def test_names_of_an_mx_srv_soa_or_unknown_query_are_not_guessed() -> None:
    for qtype in ("MX", "SRV", "SOA", "ANY", None):
        assert reconstruct("example.net", qtype, ["mail.example.net"], [60]).rrsets == []


def test_a_name_after_an_address_makes_the_row_unusable() -> None:
    assert reconstruct("a.example", "A", ["192.0.2.1", "b.example"], [1, 1]).rrsets == []


def test_ns_query_answered_by_names() -> None:
    rebuilt = reconstruct("example.net", "NS", ["ns1.example.net", "ns2.example.org"], [3600, 3600])
    assert rebuilt.rrsets == [RRset("example.net", "NS", ("ns1.example.net", "ns2.example.org"), 3600)]


def test_dnssec_and_update_strings_are_skipped() -> None:
    for value in ("RRSIG 48 paypal.com", "DNSKEY 5", "DS 5 1", "NSEC3", "<unknown type=65>", "SSHFP: ab",
                  "pre: NoRRSet CNAME x", "LOC:  18 21 19", "NAPTR 100 100 s SIPS+D2T  _sips._tcp.x"):  # fmt: skip
        assert classify(value)[0] == "skip", value


def test_missing_ttls_give_no_ttl() -> None:
    assert reconstruct("a.example", "A", ["192.0.2.1"], []).rrsets == [RRset("a.example", "A", ("192.0.2.1",), None)]
