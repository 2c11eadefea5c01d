"""C helpers of the wire sensors (``_fastwire.c``), each with a Python reference that tests compare it with.

``scan``: ``batchloop.process_batch_python``; ``fold``: ``answers.fold_rrsets``; ``walk``:
``layout.walk_python``; ``decode``: ``message.decode_response_python`` (the common case only, else None),
with the names and rdata canonical (its last field, True: ``DnsResponse.canonical``).
"""

from collections.abc import Callable
from typing import Any

def scan(
    linktype: int,
    data: bytes,
    meta: bytes,
    ports: bytes,
    queries: dict[bytes, float],
    max_queries: int,
    layouts: dict[bytes, Any] | None,
    fold_numbers: dict[int, bytearray],
    fold_templates: dict[int, Any],
    keep: bool,
    general: Callable[[int, float, bytes], None],
    respond: Callable[..., None],
    query: Callable[[bytes, float], None],
    /,
) -> tuple[int, int, int]: ...
def walk(message: bytes, /) -> tuple[int, int, tuple[int, ...], tuple[int, ...]] | None: ...
def fold(
    fold_numbers: dict[int, bytearray],
    fold_templates: dict[int, Any],
    entries: tuple[tuple[int, Any, tuple[int, ...]], ...],
    answer_ttls: tuple[int, ...],
    message: bytes,
    sec: int,
    /,
) -> None: ...
def decode(
    message: bytes, /
) -> tuple[int, int, str, int, int, list[tuple[str, int, int, int, str]], bool, bool] | None: ...
