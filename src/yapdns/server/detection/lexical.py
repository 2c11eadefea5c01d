"""Lexical signals of algorithmically generated names (DGA): character entropy and a bigram score.

The label scored is the one the registrant chose: the registered domain
(eTLD+1, ``nod.registered_domain``) without its public suffix
(``qxhgrtpw`` in ``www.qxhgrtpw.com``).

* ``entropy``: Shannon entropy of the label's characters, in bits per
  character (shown; short labels cannot score high, so it is not a flag).
* ``bigram``: the mean log10 probability of the character bigrams of the
  label's letter runs (each a word with start and end marks: digits and
  hyphens split words) under a model of English spelling, with add-one
  smoothing over letters, digits and the hyphen. The model is counted once
  per process (under a second) from the ``web2`` word list that the
  ``english-words`` package ships (MIT): FreeBSD's ``share/dict/web2``
  revision 326913, Webster's Second International Dictionary (1934, public
  domain), 234,450 words, lower-cased letters only.
* DGA-like: a label of at least ``MIN_LENGTH`` characters whose letters
  (``MIN_LENGTH`` or more) score below the ``PERCENTILE`` percentile of the
  list's own words of that length (the threshold comes from the data, and is
  reported), or that switches between letters and digits ``MIN_SWITCHES``
  times or more.
  Punycode labels (``xn--``) are never called DGA-like: the model knows
  only English letters.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import regex

from yapdns.server.detection.nod import registered_domain

ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-"
MIN_LENGTH = 8
MIN_SWITCHES = 4  # letter/digit switches that alone make a label of MIN_LENGTH or more DGA-like
_NOT_LETTERS = regex.compile(r"[^a-z]+")
PERCENTILE = 1.0
SOURCE = ("english-words (MIT): web2 list, FreeBSD share/dict/web2 r326913, "
          "Webster's Second International Dictionary (1934, public domain)")


@dataclass(frozen=True)
class BigramModel:
    """Bigram counts of a word list, the counts of each first character, and the DGA threshold."""

    pairs: dict[str, int]
    firsts: dict[str, int]
    words: int
    threshold: float

    def score(self, label: str) -> float:
        """The mean log10 probability of the bigrams of ``^word$`` over the label's letter runs (its words as
        digits and hyphens split them; a label without letters scores 0)."""
        size = len(ALPHABET) + 1  # the characters that can follow, and the end mark
        total, pairs = 0.0, 0
        for word in letter_runs(label):
            for a, b in itertools.pairwise(f"^{word}$"):
                total += math.log10((self.pairs.get(a + b, 0) + 1) / (self.firsts.get(a, 0) + size))
                pairs += 1
        return total / pairs if pairs else 0.0


def letter_runs(label: str) -> list[str]:
    """The runs of letters of a label (``1and1-ionos`` → ``and``, ``ionos``)."""
    return [run for run in _NOT_LETTERS.split(label) if run]


def switches(label: str) -> int:
    """How often the label switches between a letter and a digit (hyphens end a run of either)."""
    kinds = ["d" if c.isdigit() else "l" if c.isalpha() else "" for c in label]
    return sum(1 for a, b in itertools.pairwise(kinds) if a and b and a != b)


def _bigrams(word: str) -> list[str]:
    text = f"^{word}$"
    return [text[i : i + 2] for i in range(len(text) - 1)]


@lru_cache(maxsize=1)
def model() -> BigramModel:
    """The model of the shipped word list (counted once per process)."""
    from english_words import get_english_words_set

    words = get_english_words_set(["web2"], alpha=True, lower=True)
    pairs = Counter(pair for word in words for pair in _bigrams(word))
    firsts: Counter[str] = Counter()
    for pair, n in pairs.items():
        firsts[pair[0]] += n
    draft = BigramModel(dict(pairs), dict(firsts), len(words), 0.0)
    long_words = sorted(draft.score(w) for w in words if len(w) >= MIN_LENGTH)
    threshold = long_words[int(len(long_words) * PERCENTILE / 100)]
    return BigramModel(draft.pairs, draft.firsts, len(words), threshold)


def entropy(label: str) -> float:
    """Shannon entropy of the characters of ``label``, bits per character."""
    if not label:
        return 0.0
    counts = Counter(label)
    return -sum(n / len(label) * math.log2(n / len(label)) for n in counts.values())


@dataclass(frozen=True)
class Lexical:
    """A name's lexical signals."""

    label: str
    entropy: float
    bigram: float
    threshold: float

    @property
    def dga(self) -> bool:
        if len(self.label) < MIN_LENGTH or self.label.startswith("xn--"):
            return False
        letters = sum(len(run) for run in letter_runs(self.label))
        return (letters >= MIN_LENGTH and self.bigram < self.threshold) or switches(self.label) >= MIN_SWITCHES

    def as_json(self) -> dict[str, object]:
        return {"label": self.label, "entropy": round(self.entropy, 3), "bigram_score": round(self.bigram, 3),
                "threshold": round(self.threshold, 3), "min_length": MIN_LENGTH, "dga_like": self.dga,
                "list": SOURCE}


def chosen_label(name: str) -> str:
    """The registered domain's own label (the name's first label when it has no registered domain)."""
    domain = registered_domain(name) or name
    return domain.split(".", 1)[0]


def lexical(name: str) -> Lexical:
    """The lexical signals of ``name``'s registered-domain label."""
    label = chosen_label(name)
    found = model()
    return Lexical(label, entropy(label), found.score(label), found.threshold)
