"""A dashboard search as the equivalent ``dnsdbq`` command line (Farsight's DNSDB client), for the copy button.

Keys: a name or wildcard is ``-r``, an address, CIDR or range ``-i``, a name in rdata ``-n`` (a left wildcard in
dnsdbq's ``.example.com`` form); the type is ``-t`` (not with ``-i``); the page size ``-l``; JSON output ``-j``.
Fences: dnsdbq's ``-A``/``-B`` select partial overlaps (``time_last_after``/``time_first_before``), and with ``-c``
complete ones (``time_first_after``/``time_last_before``), so a search mixing both kinds, or filtering by sensor
or evidence, has no exact equivalent: the command then carries a trailing shell comment saying what it leaves
out. Sample and tag searches have no dnsdbq form. Every argument is shell-quoted.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from yapdns.server.dashboard.search import SearchRequest

_PARTIAL = (("time_last_after", "-A"), ("time_first_before", "-B"))
_COMPLETE = (("time_first_after", "-A"), ("time_last_before", "-B"))


def dnsdbq_command(spec: SearchRequest) -> str | None:
    """The ``dnsdbq`` command for ``spec``, or None when dnsdbq cannot express its key."""
    api = spec.api
    args = ["dnsdbq"]
    if "rrname" in api:
        args += _typed(api, "-r", api["rrname"])
    elif "rdata_name" in api:
        value = api["rdata_name"]
        args += _typed(api, "-n", "." + value[2:] if value.startswith("*.") else value)
    elif "ip" in api:
        args += ["-i", api["ip"]]
    else:
        return None
    args += ["-l", str(spec.page_size), "-j"]
    fences, left_out = _fences(api)
    left_out += [f"{k}={api[k]}" for k in ("sensor", "evidence") if k in api]
    if "ip" in api and "type" in api:
        left_out.append(f"type={api['type']}")
    command = " ".join(shlex.quote(a) for a in args + fences)
    return f"{command}  # not expressible in dnsdbq: {', '.join(left_out)}" if left_out else command


def _typed(api: Mapping[str, str], flag: str, value: str) -> list[str]:
    return (["-t", api["type"]] if "type" in api else []) + [flag, value]


def _fences(api: Mapping[str, str]) -> tuple[list[str], list[str]]:
    partial = [(flag, api[k]) for k, flag in _PARTIAL if k in api]
    complete = [(flag, api[k]) for k, flag in _COMPLETE if k in api]
    chosen, extra = (complete, []) if complete and not partial else (partial, [k for k, _ in _COMPLETE if k in api])
    args = (["-c"] if chosen is complete and complete else []) + [a for pair in chosen for a in pair]
    return args, [f"{k}={api[k]}" for k in extra]
