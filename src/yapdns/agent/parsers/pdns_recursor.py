"""PowerDNS Recursor question/answer log lines (``quiet=no``).

Reads both styles of the Recursor's text logs:

* structured logging (4.8+ default, ``key="value"`` pairs, optionally behind
  a ``Mon DD HH:MM:SS`` stamp or a syslog header)::

      msg="Question" ... ts="1720505171.301" ... qname="example.com" qtype="A" remote="127.0.0.1:58786"
      msg="Answer" ... answers="1" ... qname="example.com" qtype="A" rcode="0" ... remote="127.0.0.1:58786"

* the legacy text (``structured-logging=no``, and every release before 4.8)::

      <tid> [<id>/<mtid>] [TCP ]question for 'example.com|A' from 127.0.0.1:58786
      <tid> [<id>/<mtid>] answer to question 'example.com|A': 0 answers, ..., rcode=3

These logs count answers but never print them: each question becomes one
observation, negative when its answer line gives a negative rcode or says
``0 answers`` with rcode 0 (NODATA), else a bare query (empty rdata). The
question and answer lines are paired (structured: by remote, name and
type; legacy: by the ``[id/mtid]`` token, name and type) so a question is
counted once. Evidence ``direct``. Other lines (statistics, start-up) are
skipped.

Time: the structured ``ts`` field is UTC epoch and wins; legacy lines use
their ``Mon DD HH:MM:SS`` stamp in local time (``ParserOptions.timezone``,
else the host's zone; year from ``ParserOptions.year`` or inferred).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from yapdns.agent.parsers._logtime import syslog_stamp
from yapdns.agent.parsers._querylog import QueryLogParser
from yapdns.agent.parsers._textline import reject_binary
from yapdns.agent.parsers.base import ParseError
from yapdns.core.digits import ascii_digits
from yapdns.core.errors import InvalidValue
from yapdns.core.model import Observation
from yapdns.core.normalize import normalize_rcode

_PAIR = re.compile(r'([A-Za-z-]+)="((?:[^"\\]|\\.)*)"')
_LEGACY_Q = re.compile(r"(\[\d+/\d+\]) (?:TCP )?question for '(.*)\|([A-Za-z0-9]+)' from ", re.ASCII)
_LEGACY_A = re.compile(
    r"(\[\d+/\d+\]) answer to question '(.*)\|([A-Za-z0-9]+)': (\d+) answers,.*?(?:rcode=(\d+))?$", re.ASCII
)


class PdnsRecursorParser(QueryLogParser):
    name = "pdns_recursor"
    timezone = "structured ts: UTC epoch; legacy stamps: ParserOptions.timezone, else the host's zone"
    description = "PowerDNS Recursor quiet=no question/answer lines (structured or legacy)"

    def parse_line(self, line: str) -> Iterator[Observation]:
        if 'msg="Question"' in line or 'msg="Answer"' in line:
            yield from self._structured(dict(_PAIR.findall(line)))
        elif "question for '" in line:
            yield from self._legacy_question(line)
        elif "answer to question '" in line:
            yield from self._legacy_answer(line)
        else:
            reject_binary(line)

    def _structured(self, kv: dict[str, str]) -> Iterator[Observation]:
        qname, qtype, remote = kv.get("qname"), kv.get("qtype"), kv.get("remote", "")
        if not qname or not qtype:
            raise ParseError("Question/Answer line without qname and qtype", code="bad_format")
        key = (remote, qname, qtype)
        if kv.get("msg") == "Question":
            yield from self.pending.ask(key, self.question(qname, qtype, _ts(kv.get("ts"))))
            return
        rcode = _rcode(kv.get("rcode"), kv.get("answers"))
        yield self.answered(key, qname, qtype, rcode, lambda: _ts(kv.get("ts")))

    def _legacy_question(self, line: str) -> Iterator[Observation]:
        m = _LEGACY_Q.search(line)
        if not m:
            raise ParseError("unreadable 'question for' line", code="bad_format")
        ident, qname, qtype = m.groups()
        yield from self.pending.ask((ident, qname, qtype), self.question(qname, qtype, self._when(line)))

    def _legacy_answer(self, line: str) -> Iterator[Observation]:
        m = _LEGACY_A.search(line)
        if not m:
            raise ParseError("unreadable 'answer to question' line", code="bad_format")
        ident, qname, qtype, answers, rcode = m.groups()
        result = _rcode(rcode, answers)
        yield self.answered((ident, qname, qtype), qname, qtype, result, lambda: self._when(line))

    def _when(self, line: str) -> int:
        if not self.syslog_start.match(line):
            raise ParseError("legacy line without a 'Mon DD HH:MM:SS' stamp", code="bad_time")
        return syslog_stamp(line, self.clock, self.years)


def _ts(value: str | None) -> int:
    try:
        if not (value or "").isascii():
            raise ValueError
        return int(float(value or ""))
    except ValueError:
        raise ParseError(f"bad ts {value!r}", code="bad_time") from None


def _rcode(rcode: str | None, answers: str | None) -> str | None:
    """The rcode mnemonic; NOERROR with no answer records is NODATA; unknown stays None."""
    if rcode is None or not ascii_digits(rcode):
        return None
    try:
        text = normalize_rcode(int(rcode))
    except InvalidValue as exc:
        raise ParseError(str(exc), code="bad_rcode") from None
    if text == "NOERROR" and answers == "0":
        return "NODATA"
    return text


PARSER = PdnsRecursorParser
