"""Numbers from untrusted text are ASCII digits only.

``str.isdigit()``, ``int()`` and ``float()`` also take other scripts' digits ('٣' is 3, '²' is a digit to
``isdigit`` but not to ``int``), and regular expressions' ``\\d`` matches them unless compiled with ``re.ASCII``.
Parsers and parameters check with ``ascii_digits`` before converting.
"""

from __future__ import annotations


def ascii_digits(text: str) -> bool:
    """Whether ``text`` is one or more of ``0-9`` and nothing else."""
    return text.isascii() and text.isdigit()
