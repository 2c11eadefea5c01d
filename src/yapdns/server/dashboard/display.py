"""How names, rdata and times are shown: always escaped, isolated and linked.

Everything that comes from DNS is hostile text. Every helper here returns
HTML built with ``format_html`` (which escapes each value), wraps names and
rdata in ``<bdi>`` so right-to-left text cannot reorder the page around it,
and shows Unicode bidi and invisible format characters as visible ``\\u``
escapes. IDNs are shown as U-labels, with the A-label beside them.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from urllib.parse import quote

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from yapdns.core import rrtypes
from yapdns.core.names import to_unicode
from yapdns.core.rdata import NAME_TYPES
from yapdns.storage.context import IpContextRow

_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def visible(text: str) -> str:
    """``text`` with bidi controls and zero-width characters spelled out as ``\\uXXXX``."""
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_URL_SAFE = "!$&'()*+,;=/~:@"  # what Django's reverse() leaves unquoted in a path


@lru_cache(maxsize=8)
def url_prefix(route: str) -> str:
    """The URL of ``route`` up to its one argument (reverse() is too slow to call per table cell)."""
    marker = "ARG"
    url = reverse(f"dashboard:{route}", args=[marker])
    return url[: url.rindex(marker)]


def domain_url(name: str) -> str:
    return url_prefix("domain") + quote(name, safe=_URL_SAFE)


def ip_url(ip: str) -> str:
    return url_prefix("ip") + quote(ip, safe=_URL_SAFE)


def name_html(name: str, *, link: bool = True, alabel: bool = True) -> SafeString:
    """A name as its U-label (A-label in the tooltip and, for IDNs, beside it), linked to its page."""
    shown = visible(to_unicode(name))
    label = format_html('<bdi class="dn" title="{}">{}</bdi>', name, shown)
    if link:
        label = format_html('<a class="dn-link" href="{}">{}</a>', domain_url(name), label)
    if alabel and shown != name:
        label = format_html('{} <span class="alabel" title="A-label (as stored)"><bdi>{}</bdi></span>', label, name)
    return label


def ip_html(ip: str) -> SafeString:
    return format_html('<a class="ip-link" href="{}"><bdi class="ip">{}</bdi></a>', ip_url(ip), ip)


def context_html(row: IpContextRow | None) -> SafeString:
    """`` AS13335 · AU`` (AS number, else name; country) as a muted badge, or nothing."""
    if row is None:
        return SafeString("")
    who = f"AS{row.asn}" if row.asn is not None else (row.as_name or "")
    shown = " · ".join(part for part in (who, row.country or "") if part)
    title = " · ".join(p for p in (row.as_name, row.prefix, row.source) if p)
    if not shown:
        return SafeString("")
    return format_html(' <span class="ctx-badge" title="{}"><bdi>{}</bdi></span>', title, shown)


def rdata_html(rrtype: str, rdata: str) -> SafeString:
    """Rdata with its address or target name linked to the IP or domain page."""
    code = rrtypes.rrtype_code(rrtype)
    if code in rrtypes.IP_TYPES:
        return ip_html(rdata)
    if code in NAME_TYPES:
        return name_html(rdata, alabel=False)
    if code in (rrtypes.MX, rrtypes.SRV):
        head, _, target = rdata.rpartition(" ")
        if head and target:
            return format_html('<span class="rd-pre">{}</span> {}', head, name_html(target, alabel=False))
    return format_html('<bdi class="rd">{}</bdi>', visible(rdata))


def utc(epoch: int | None) -> dt.datetime | None:
    return None if epoch is None else dt.datetime.fromtimestamp(epoch, dt.UTC)


def when_html(epoch: int | None) -> SafeString:
    """An epoch second as ``<time>`` in UTC (ISO 8601 in the ``datetime`` attribute)."""
    moment = utc(epoch)
    if moment is None:
        return format_html('<span class="muted">{}</span>', "never")
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.isoformat().replace("+00:00", "Z"),
        ago(epoch),
        moment.strftime("%Y-%m-%d %H:%M"),
    )


def zone_badge_html() -> SafeString:
    """Marks times that come from zone files, on a record never seen in traffic."""
    return format_html(
        '<span class="badge zone" title="{}">{}</span>', "seen only in zone files: these are zone-file times", "zone"
    )


def ago(epoch: int | None, now: float | None = None) -> str:
    """A rough age: ``3 min ago``, ``5 h ago``, ``12 d ago``, ``2 y ago``."""
    if epoch is None:
        return "never"
    reference = dt.datetime.now(dt.UTC).timestamp() if now is None else now
    return duration(int(reference) - epoch) + " ago" if reference >= epoch else "in the future"


def duration(seconds: int) -> str:
    """A compact duration: ``45 s``, ``12 min``, ``5 h``, ``30 d``, ``2.1 y``."""
    seconds = max(0, int(seconds))
    for limit, unit, size in ((60, "s", 1), (3600, "min", 60), (86400, "h", 3600), (365 * 86400, "d", 86400)):
        if seconds < limit:
            return f"{seconds // size} {unit}"
    return f"{seconds / (365 * 86400):.1f} y"


def compact(number: int | None) -> str:
    """``1234567`` → ``1.2M`` (for tiles; tables print exact numbers)."""
    if number is None:
        return "\u2013"
    for size, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if abs(number) >= size:
            return f"{number / size:.1f}{suffix}"
    return str(number)
