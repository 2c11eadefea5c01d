# -*- coding: utf-8 -*-
"""YAPDNS reporting module for Cuckoo 2.0.x (Python 2.7) and CAPEv2 (Python 3).

Turns the DNS traffic a sandbox saw into passive-DNS evidence linked to the
analysed sample, in two ways (either or both):

* a **DNSDump v2** TSV file per analysis (format in ``docs/sandboxes.md``): one
  line per answer RR, with the packet time where the sandbox kept it, negative
  answers kept with their rcode, every line carrying the task id and the
  sample's SHA-256. Files are published atomically and never overwritten: a
  reprocessed analysis only adds a file with the lines no earlier file had;
* **direct posting** to a YAPDNS server's ingest API with a sensor token. Each
  analysis is sent under stable batch ids, so a replay or a reprocessing is
  acknowledged by the server and never counted twice. When the server cannot be
  reached the batch is queued on disk and sent by the next report run.

Guarantee to the sandbox: ``run`` never raises. Every error is caught and
logged as a warning, so a bad report or an unreachable server never fails the
sandbox's reporting stage. Standard library only; one file, no install step.
"""

from __future__ import absolute_import, division

import calendar
import datetime
import errno
import glob
import gzip
import io
import json
import logging
import os
import re
import socket
import ssl
import time

try:  # CAPEv2 (and Cuckoo 1.x) layout
    from lib.cuckoo.common.abstracts import Report
except ImportError:  # Cuckoo 2.0.x package layout
    from cuckoo.common.abstracts import Report

try:
    from urllib.error import HTTPError, URLError  # novermin (the Python 3 branch)
    from urllib.request import Request, urlopen  # novermin (the Python 3 branch)
except ImportError:  # Python 2.7
    from urllib2 import HTTPError, Request, URLError, urlopen  # novermin (the Python 2.7 branch)

try:
    TEXT = unicode  # Python 2.7
except NameError:
    TEXT = str

log = logging.getLogger(__name__)

FORMAT = "dnsdump2"
FIELDS = ("ts", "ts_source", "task_id", "sha256", "qname", "qtype", "kind", "rcode", "rrtype", "rdata")
SOURCE = "dnsdump2"
UNKNOWN_TYPE = "TYPE0"  # a name seen without a query type (reserved type 0: never on the wire)
BATCH_SIZE = 2000
QUEUE_SUFFIX = ".ndjson.gz"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")
_NAME_TYPES = ("CNAME", "NS", "PTR")
_QTYPES = {"All": "ANY", "None": None, "": None}
_NAME_SPECIALS = u'"().;\\@$'  # escaped as dnspython's to_text does
_EPOCH = datetime.datetime(1970, 1, 1)
_MAX_TIME = 2 ** 32  # also refuses NaN and infinity
_NEEDS_ESCAPE = re.compile(u'[\x00-\x20\x7f"().;\\\\@$]')  # a superset of every specials set used


# -- presentation forms -----------------------------------------------------------------------

def _to_bytes(value):
    """A name or string from the results (text or bytes) as bytes; ``None`` if it is neither."""
    if isinstance(value, bytes):
        return value
    if not isinstance(value, TEXT):
        return None
    for errors in ("strict", "surrogateescape"):
        try:
            return value.encode("utf-8", errors)
        except (UnicodeError, LookupError):
            continue
    return None


def _escape(raw, specials):
    """Bytes as DNS presentation text: valid UTF-8 kept, control and undecodable bytes as ``\\DDD``."""
    try:
        chars = raw.decode("utf-8")
    except UnicodeError:
        return u"".join(u"\\%03d" % b if b >= 0x80 else _escape_char(TEXT(chr(b)), specials) for b in bytearray(raw))
    if not _NEEDS_ESCAPE.search(chars):
        return chars  # the common case: nothing to escape
    return u"".join(_escape_char(c, specials) for c in chars)


def _escape_char(char, specials):
    code = ord(char)
    if code <= 0x20 or code == 0x7F:
        return u"\\%03d" % code
    if char in specials:
        return u"\\" + char
    return char


def presentation_name(value):
    """A DNS name from dpkt or JSON in presentation form (``None`` if unusable)."""
    raw = _to_bytes(value)
    if raw is None:
        return None
    raw = raw.rstrip(b".")
    if not raw:
        return u"."
    labels = [_escape(label, _NAME_SPECIALS) for label in raw.split(b".")]
    if any(not label for label in labels):
        return None
    name = u".".join(labels)
    return u"\\045" if name == u"-" else name


def _quoted(value):
    raw = _to_bytes(value)
    return None if raw is None else u'"' + _escape(raw, u'\\"') + u'"'


def _address(kind, value):
    family = socket.AF_INET if kind == "A" else socket.AF_INET6
    try:
        return TEXT(socket.inet_ntop(family, socket.inet_pton(family, str(value))))
    except (socket.error, ValueError, TypeError, UnicodeError):
        return None


def presentation_rdata(rrtype, data):
    """Canonical rdata of a sandbox answer, or ``None`` when the sandbox kept too little of it.

    Cuckoo and CAPE drop the MX preference and the SRV fields, and join TXT and
    HINFO strings with spaces: such answers are only kept when unambiguous.
    """
    if rrtype in ("A", "AAAA"):
        return _address(rrtype, data)
    if rrtype in _NAME_TYPES:
        return presentation_name(data)
    raw = _to_bytes(data)
    if raw is None:
        return None
    if rrtype == "TXT" and raw and not re.search(b"\\s", raw):
        return _quoted(raw)
    return {"SOA": _soa, "HINFO": _hinfo}.get(rrtype, lambda _: None)(raw)


def _soa(raw):
    parts = raw.split(b",")
    names = [presentation_name(p) for p in parts[:2]]
    if len(parts) != 7 or None in names or not all(p.isdigit() for p in parts[2:]):
        return None
    return u" ".join(names + [TEXT(int(p)) for p in parts[2:]])


def _hinfo(raw):
    words = raw.split(b" ")
    if len(words) != 2 or not all(words) or re.search(b"\\s", b"".join(words)):
        return None
    return _quoted(words[0]) + u" " + _quoted(words[1])


def _field(value):
    """A TSV field: ``-`` when unset; tabs, newlines and backslashes escaped."""
    if value is None or value == u"":
        return u"-"
    text = value if isinstance(value, TEXT) else _escape(_to_bytes(TEXT(value)), u"")
    return text.replace(u"\t", u"\\009").replace(u"\n", u"\\010").replace(u"\r", u"\\013")


# -- the analysis and its DNS section -> rows ----------------------------------------------

def _started_epoch(info, task, zone):
    """The analysis start as UTC epoch seconds; ``None`` if unknown.

    Cuckoo 2.0.x keeps a naive local ``datetime``; CAPEv2 a ``"%Y-%m-%d %H:%M:%S"``
    string (local time before 2026, UTC since); a Cuckoo 2 ``report.json`` the
    wall-clock time encoded as if it were UTC. ``zone`` (``local``/``utc``) says how
    to read the wall clock.
    """
    for value in (info.get("started"), _dict(task).get("started_on")):
        naive = _wall_clock(value)
        if naive is not None:
            if zone == "utc":
                return calendar.timegm(naive.timetuple())
            return int(time.mktime(naive.timetuple()))
    return None


def _wall_clock(value):
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _EPOCH + datetime.timedelta(seconds=value)
    if isinstance(value, (TEXT, bytes)):
        text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
        try:
            return datetime.datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return None
    return None


def _dict(value):
    return value if isinstance(value, dict) else {}


def analysis_identity(results, task, zone="local"):
    """``(task_id, sha256 or None, started epoch or None)`` of one analysis."""
    info = _dict(results.get("info"))
    task_id = info.get("id", _dict(task).get("id"))
    sha = _dict(_dict(results.get("target")).get("file")).get("sha256") or ""
    sha = sha.decode("ascii", "replace") if isinstance(sha, bytes) else sha
    sha = sha.lower() if isinstance(sha, TEXT) else u""
    return (
        None if task_id is None else TEXT(task_id),
        sha if _SHA256.match(sha) else None,
        _started_epoch(info, task, zone),
    )


def _answers(entry):
    seen, out = set(), []
    for answer in entry.get("answers") or []:
        if not isinstance(answer, dict) or "type" not in answer:
            continue
        key = (answer.get("type"), _to_bytes(answer.get("data")) or b"")
        if key not in seen:
            seen.add(key)
            out.append(answer)
    return out


def _has_cname(entries):
    names = set()
    for entry in entries:
        if any(a.get("type") == "CNAME" for a in _answers(entry)):
            names.add(presentation_name(entry.get("request")))
    return names


def entry_rows(entry, aliased, ignore):
    """``(qtype, kind, rcode, rrtype, rdata)`` tuples for one ``network.dns`` entry.

    Kinds: ``answer`` pairs the name asked with an answer of that type (the sandbox
    merges answers and drops owner names, so this is the name-to-address pairing,
    possibly through CNAMEs); ``cname`` is a name of the CNAME chain (owner unknown);
    ``partial`` an answer the sandbox truncated; ``negative`` an NXDOMAIN for a name
    without CNAMEs; ``query`` a name asked with no usable answer.
    """
    qname = presentation_name(entry.get("request"))
    qtype = entry.get("type") if isinstance(entry.get("type"), (TEXT, str)) else None
    qtype = _QTYPES.get(qtype, qtype)
    rows, answered, nxdomain = [], False, False
    for answer in _answers(entry):
        rrtype, data = answer.get("type"), answer.get("data")
        if rrtype == "NXDOMAIN":
            nxdomain = True
            continue
        rdata = presentation_rdata(rrtype, data)
        if rrtype in ("A", "AAAA") and rdata in ignore:
            continue
        if rrtype == "CNAME" and qtype != "CNAME" and rdata:
            rows.append((qtype, "cname", None, rrtype, rdata))
        elif rdata:
            rows.append((qtype, "answer", None, rrtype, rdata))
            answered = True
        else:
            rows.append((qtype, "partial", None, rrtype, _partial(data)))
    if not answered:
        negative = nxdomain and qtype and qname not in aliased
        rows.append((qtype, "negative" if negative else "query", "NXDOMAIN" if negative else None, None, None))
    return qname, rows


def _partial(data):
    raw = _to_bytes(data)
    return None if raw is None else _escape(raw, u"\\")


def dns_rows(results, task, options):
    """Every row of the analysis as a tuple of ``FIELDS`` values, and the count of entries skipped."""
    task_id, sha, started = analysis_identity(results, task, options["started_timezone"])
    network = results.get("network")
    if not isinstance(network, dict):
        raise ValueError("the results have no network section (is network processing enabled?)")
    listed = network.get("dns") or []
    if isinstance(listed, (dict, TEXT, bytes)) or not hasattr(listed, "__iter__"):
        raise ValueError("network.dns is a %s, not a list" % type(listed).__name__)
    listed = list(listed)  # Cuckoo 2.0.x hands over dict.values()
    entries = [e for e in listed if isinstance(e, dict)]
    skipped = len(listed) - len(entries)
    aliased = _has_cname(entries)
    out = []
    for entry in entries:
        ts, source = _entry_time(entry, started)
        try:
            qname, rows = entry_rows(entry, aliased, options["ignore_addresses"])
        except Exception:  # one odd entry never costs the others
            log.warning("yapdns: skipping a DNS entry of task %s: %r", task_id, entry, exc_info=True)
            skipped += 1
            continue
        if qname is None:
            skipped += 1
            continue
        for qtype, kind, rcode, rrtype, rdata in rows:
            out.append((ts, source, task_id, sha, qname, qtype, kind, rcode, rrtype, rdata))
    return out, skipped


def _entry_time(entry, started):
    seen = entry.get("first_seen")
    if isinstance(seen, (int, float)) and not isinstance(seen, bool) and 0 < seen < _MAX_TIME:
        return u"%.6f" % seen, u"packet"
    if started is not None:
        return u"%.6f" % started, u"analysis"
    return u"%.6f" % time.time(), u"report"


# -- DNSDump v2 files ---------------------------------------------------------------------

def format_line(row):
    return u"\t".join(_field(v) for v in row) + u"\n"


def _header(results, started):
    info = _dict(results.get("info"))
    return u"".join([
        u"#separator \\x09\n",
        u"#format\t%s\n" % FORMAT,
        u"#sandbox\t%s\n" % _field(TEXT(info.get("version") or "")),
        u"#started\t%s\n" % _field(None if started is None else TEXT(started)),
        u"#fields\t%s\n" % u"\t".join(FIELDS),
    ])


def _data_lines(path):
    with io.open(path, "r", encoding="utf-8", errors="replace") as fh:
        return {line for line in fh if not line.startswith(u"#")}


def write_dnsdump(directory, stem, header, rows):
    """Publish ``rows`` under ``directory/stem*.dnsdump2.tsv`` without overwriting anything.

    A first run writes ``stem.dnsdump2.tsv``. A reprocessing writes
    ``stem.rN.dnsdump2.tsv`` holding only the lines no earlier file of the
    analysis had (nothing when there are none), so a collector reading every
    file never counts a sighting twice. Returns ``(path or None, the rows
    written, N)``: direct posting sends exactly those rows, under revision N.
    """
    _makedirs(directory)
    earlier = sorted(glob.glob(os.path.join(directory, stem + ".*dnsdump2.tsv")))
    known = set()
    for path in earlier:
        known |= _data_lines(path)
    fresh = [(row, line) for row, line in ((r, format_line(r)) for r in rows) if line not in known]
    if earlier and not fresh:
        return None, [], len(earlier)
    if earlier:
        log.warning("yapdns: %s was reprocessed; %d new DNS lines go to a new file", stem, len(fresh))
    body = (header + u"".join(line for _, line in fresh)).encode("utf-8")
    path, revision = _publish(directory, stem, body, len(earlier))
    return path, [row for row, _ in fresh], revision


def _publish(directory, stem, body, start):
    tmp = os.path.join(directory, ".%s.%d.tmp" % (stem, os.getpid()))
    with open(tmp, "wb") as fh:
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        for n in range(start, start + 1000):
            name = "%s.dnsdump2.tsv" % stem if n == 0 else "%s.r%d.dnsdump2.tsv" % (stem, n)
            path = os.path.join(directory, name)
            try:
                os.link(tmp, path)  # fails instead of replacing an existing file
                return path, n
            except OSError as exc:
                if exc.errno != errno.EEXIST:
                    raise
        raise OSError("no free file name for %s" % stem)
    finally:
        os.unlink(tmp)


# -- observations, batches, the ingest API and the disk queue ----------------------------

def observation(row):
    """The ingest wire object of one row (``core/batch.py``); ``None`` for a ``partial`` row."""
    ts, _, task_id, sha, qname, qtype, kind, rcode, rrtype, rdata = row
    if kind == "partial":
        return None
    obs = {"time_first": int(float(ts)), "time_last": int(float(ts)), "evidence": "indirect", "source": SOURCE}
    if kind == "answer":
        obs.update(rrname=qname, rrtype=rrtype, rdata=[rdata])
    elif kind == "cname":
        obs.update(rrname=rdata, rrtype=UNKNOWN_TYPE)
    else:
        obs.update(rrname=qname, rrtype=qtype or UNKNOWN_TYPE)
        if rcode:
            obs["rcode"] = rcode
    if sha:
        obs["sample"] = {"sha256": sha, "task_id": task_id}
    return obs


def batches(rows, batch_prefix):
    """``(batch_id, gzipped NDJSON body)`` pairs; ids are stable for the same analysis."""
    objects = [o for o in (observation(r) for r in rows) if o is not None]
    for part, start in enumerate(range(0, len(objects), BATCH_SIZE)):
        text = "".join(json.dumps(o, sort_keys=True) + "\n" for o in objects[start:start + BATCH_SIZE])
        yield "%s-%d" % (batch_prefix, part), _gzip(text.encode("ascii"))


def _gzip(data):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as fh:
        fh.write(data)
    return buf.getvalue()


class RetryLater(Exception):
    """The server is unreachable or asked to come back later: keep the batch queued."""


class Rejected(Exception):
    """The server refused the batch itself (malformed, too large): retrying cannot help."""


class IngestClient(object):
    """POSTs one batch to ``/api/v1/ingest`` with the sensor token."""

    def __init__(self, url, token, timeout=10, ca_file=None):
        self.url = url.rstrip("/") + "/api/v1/ingest"
        self.token = token
        self.timeout = timeout
        self.context = ssl.create_default_context(cafile=ca_file or None) if url.startswith("https") else None

    def post(self, batch_id, body):
        request = Request(self.url, data=body, headers={
            "Authorization": "Bearer %s" % self.token,
            "Content-Type": "application/x-ndjson",
            "Content-Encoding": "gzip",
            "X-Batch-Id": batch_id,
        })
        try:
            kwargs = {"timeout": self.timeout}
            if self.context is not None:
                kwargs["context"] = self.context
            response = urlopen(request, **kwargs)
            try:
                return json.loads(response.read().decode("utf-8"))
            finally:
                response.close()
        except HTTPError as exc:
            if exc.code in (400, 413):
                raise Rejected("HTTP %d: %r" % (exc.code, exc.read()[:300]))
            hint = " (check the sensor token)" if exc.code in (401, 403) else ""
            raise RetryLater("HTTP %d%s" % (exc.code, hint))
        except (URLError, socket.error, ValueError) as exc:
            raise RetryLater(str(exc))
        except Exception as exc:  # http.client's own errors (BadStatusLine...): keep the batch
            raise RetryLater("%s: %s" % (type(exc).__name__, exc))


class DiskQueue(object):
    """Batches waiting for the server: one gzip file per batch id, published atomically."""

    def __init__(self, directory):
        self.directory = directory

    def put(self, batch_id, body):
        _makedirs(self.directory)
        path = os.path.join(self.directory, batch_id + QUEUE_SUFFIX)
        tmp = path + ".%d.tmp" % os.getpid()
        with open(tmp, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.rename(tmp, path)

    def pending(self):
        paths = glob.glob(os.path.join(self.directory, "*" + QUEUE_SUFFIX))
        return sorted(paths, key=lambda p: (_mtime(p), p))

    def set_aside(self, path):
        failed = os.path.join(self.directory, "failed")
        _makedirs(failed)
        os.rename(path, os.path.join(failed, os.path.basename(path)))


def deliver(client, queue, fresh, drain_max=500):
    """Send up to ``drain_max`` queued batches (oldest first), then ``fresh`` ones; queue what cannot be sent.

    The first ``RetryLater`` stops sending: the rest waits on disk for the next
    report run, and so does a backlog beyond ``drain_max`` (a long outage drains
    over several reports instead of stalling one). Returns ``(sent, queued)``.
    """
    sent, down = _drain(client, queue, drain_max)
    queued = 0
    for batch_id, body in fresh:
        if not down:
            try:
                _send(client, batch_id, body)
                sent += 1
                continue
            except RetryLater as exc:
                log.warning("yapdns: server unavailable (%s); queueing batch %s", exc, batch_id)
                down = True
            except Rejected as exc:
                log.warning("yapdns: batch %s rejected (%s); kept in failed/", batch_id, exc)
                queue.put(batch_id, body)
                queue.set_aside(os.path.join(queue.directory, batch_id + QUEUE_SUFFIX))
                continue
        queue.put(batch_id, body)
        queued += 1
    return sent, queued


def _drain(client, queue, drain_max):
    sent = 0
    for path in queue.pending()[:drain_max]:
        batch_id = os.path.basename(path)[: -len(QUEUE_SUFFIX)]
        try:
            with open(path, "rb") as fh:
                _send(client, batch_id, fh.read())
        except RetryLater as exc:
            log.warning("yapdns: server unavailable (%s); %d queued batches wait", exc, len(queue.pending()))
            return sent, True
        except Rejected as exc:
            log.warning("yapdns: queued batch %s rejected (%s); moved to failed/", batch_id, exc)
            queue.set_aside(path)
            continue
        except (IOError, OSError):
            continue  # another report run sent it meanwhile
        _unlink(path)
        sent += 1
    return sent, False


def _send(client, batch_id, body):
    answer = client.post(batch_id, body)
    if isinstance(answer, dict) and answer.get("rejected"):
        log.warning("yapdns: batch %s: %s observations rejected: %s", batch_id, answer.get("rejected"),
                    answer.get("rejects", [])[:3])


def _makedirs(path):
    try:
        os.makedirs(path)
    except OSError as exc:
        if exc.errno != errno.EEXIST or not os.path.isdir(path):
            raise


def _mtime(path):
    try:
        return os.path.getmtime(path)
    except OSError:
        return 0.0


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


# -- the reporting module ---------------------------------------------------------------------

def read_options(options, reports_path):
    """The module's settings from its ``reporting.conf`` section (values as Cuckoo or CAPE parsed them)."""
    get = options.get if hasattr(options, "get") else (lambda k, d=None: getattr(options, k, d))

    def text(key, default=""):
        value = get(key, default)
        return default if value is None or value is True or value is False else TEXT(value).strip()

    def flag(key, default):
        value = get(key, default)
        if isinstance(value, (TEXT, str)):
            return value.strip().lower() in ("1", "yes", "on", "true")
        return bool(value)

    storage = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(reports_path or "."))))
    queue = text("queue_dir") or os.path.join(storage, "yapdns-queue")
    return {
        "output_dir": text("output_dir") or text("output_path") or reports_path,
        "write_tsv": flag("write_tsv", True),
        "url": text("url"),
        "token": text("token"),
        "ca_file": text("ca_file") or None,
        "timeout": float(text("timeout") or 10),
        "drain_max": int(text("drain_max") or 500),
        "queue_dir": queue,
        "instance": _SAFE_ID.sub("-", text("instance") or socket.gethostname())[:40],
        "started_timezone": "utc" if text("started_timezone").lower() == "utc" else "local",
        "ignore_addresses": frozenset(a for a in re.split(r"[\s,]+", text("ignore_addresses")) if a),
    }


class Yapdns(Report):
    """Writes DNSDump v2 and/or posts the analysis' DNS evidence to YAPDNS."""

    order = 3

    def run(self, results):
        task = _dict(self.task).get("id")
        try:
            options = read_options(self.options or {}, getattr(self, "reports_path", ""))
            rows = self._rows(results, options, task)
            task_id, _, started = analysis_identity(_dict(results), self.task, options["started_timezone"])
            stem = "cuckoo-task%s-%s" % (_SAFE_ID.sub("-", task_id or "unknown"), started or "nostart")
        except Exception:
            log.warning("yapdns: cannot read the DNS results of task %s", task, exc_info=True)
            return
        to_post, revision = rows, 0
        if options["write_tsv"] and rows:
            try:
                header = _header(_dict(results), started)
                path, to_post, revision = write_dnsdump(options["output_dir"], stem, header, rows)
                if path:
                    log.info("yapdns: wrote %d DNS lines to %s", len(to_post), path)
            except Exception:
                log.warning("yapdns: cannot write the DNSDump v2 file of task %s", task, exc_info=True)
        if options["url"] and options["token"]:
            try:
                self._post(to_post, options, stem + (".r%d" % revision if revision else ""), task)
            except Exception:
                log.warning("yapdns: cannot post or queue the DNS evidence of task %s", task, exc_info=True)

    def _rows(self, results, options, task):
        try:
            rows, skipped = dns_rows(_dict(results), self.task, options)
        except ValueError as exc:
            log.warning("yapdns: task %s: %s", task, exc)
            return []
        if skipped:
            log.warning("yapdns: task %s: %d malformed DNS entries skipped", task, skipped)
        return rows

    @staticmethod
    def _post(rows, options, stem, task):
        """Send the queue and ``rows``; the batch ids derive from ``stem`` (task, start, file revision)."""
        fresh = list(batches(rows, "cuckoo-%s-%s" % (options["instance"], stem[len("cuckoo-"):])))
        client = IngestClient(options["url"], options["token"], options["timeout"], options["ca_file"])
        sent, queued = deliver(client, DiskQueue(options["queue_dir"]), fresh, options["drain_max"])
        log.info("yapdns: task %s: %d batches sent, %d queued", task, sent, queued)
