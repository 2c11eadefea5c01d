"""C helpers of the wire sensors (``_fastwire.c``), each with a Python reference that tests compare it with.

``scan``: ``batchloop.process_batch_python``; ``fold``: ``answers.fold_rrsets``; ``walk``:
``layout.walk_python``; ``decode``: ``message.decode_response_python`` (the common case only, else None),
with the names and rdata canonical (``canonical``: True). The fields of every shape that crosses are named in
``boundary.h`` and exported in ``SHAPES`` (``boundary.py`` compares them with the Python side).
"""

from typing import Any

SHAPES: dict[str, tuple[str, ...] | frozenset[str]]

def scan(state: Any, data: bytes, meta: bytes, /) -> None: ...
def walk(message: bytes, /) -> tuple[int, int, tuple[int, ...], tuple[int, ...], None] | None: ...
def fold(
    fold: Any,
    entries: tuple[tuple[int, Any, tuple[int, ...]], ...],
    answer_ttls: tuple[int, ...],
    message: bytes,
    sec: int,
    /,
) -> None: ...
def decode(
    message: bytes, /
) -> tuple[int, int, str, int, int, list[tuple[str, int, int, int, str]], bool, bool] | None: ...
