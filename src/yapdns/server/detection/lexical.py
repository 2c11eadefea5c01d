"""Lexical signals of algorithmically generated names (DGA): character entropy and a per-token bigram score.

The label scored is the one the registrant chose: the registered domain
(eTLD+1, ``nod.registered_domain``) without its public suffix
(``qxhgrtpw`` in ``www.qxhgrtpw.com``).

* ``entropy``: Shannon entropy of the label's characters, in bits per
  character (shown; short labels cannot score high, so it is not a flag).
* ``bigram``: the label is cut into its letter runs (``office365`` gives
  ``office``; ``e-recht24`` gives ``e`` and ``recht``): digits and hyphens
  are not scored as spelling. The score is the mean log10 probability of the
  character bigrams of ``^token$`` over every token, under a model of English
  spelling with add-one smoothing over 26 letters and the end mark. The model
  is counted once per process from the ``web2`` word list that the
  ``english-words`` package ships (MIT): FreeBSD's ``share/dict/web2``
  revision 326913, Webster's Second International Dictionary (1934, public
  domain), 234,450 words.
* ``switches``: how often the label changes between a letter and a digit
  (``a1b2c3`` has 5).
* DGA-like: a label of at least ``MIN_LETTERS`` letters whose bigram score
  is below the threshold of its length band, or with at least ``SWITCHES``
  letter/digit changes. Each band's threshold is the ``PERCENTILE``
  percentile of the scores of real benign registered domains of that band
  (``topsites.txt``: half of a Majestic Million sample, CC BY 3.0; its
  header says where from), so about that share of popular names is flagged.
  Punycode labels (``xn--``) are never called DGA-like: the model knows
  only English letters.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from yapdns.server.detection.nod import registered_domain

LETTERS = "abcdefghijklmnopqrstuvwxyz"
TOKEN = re.compile(r"[a-z]+")
SWITCH = re.compile(r"[a-z](?=[0-9])|[0-9](?=[a-z])")
BANDS = ((6, 7), (8, 9), (10, 12), (13, 10_000))  # letters in the label: each band has its own threshold
MIN_LETTERS = BANDS[0][0]
PERCENTILE = 2.0
SWITCHES = 3
CALIBRATION = Path(__file__).with_name("topsites.txt")
SOURCE = ("english-words (MIT): web2 list, FreeBSD share/dict/web2 r326913, "
          "Webster's Second International Dictionary (1934, public domain); thresholds from the Majestic Million "
          "(CC BY 3.0)")


def tokens(label: str) -> list[str]:
    """The letter runs of a label (digits and hyphens split them)."""
    return TOKEN.findall(label.lower())


def band(letters: int) -> int | None:
    """The index of the length band of a label with ``letters`` letters (None: too short to call)."""
    return next((i for i, (low, high) in enumerate(BANDS) if low <= letters <= high), None)


@dataclass(frozen=True)
class BigramModel:
    """Bigram counts of a word list, the counts of each first character, and the DGA threshold of each band."""

    pairs: dict[str, int]
    firsts: dict[str, int]
    words: int
    thresholds: tuple[float, ...]

    def score(self, label: str) -> float:
        """The mean log10 probability of the bigrams of ``^token$`` over the label's letter runs (0: none)."""
        size = len(LETTERS) + 1  # the characters that can follow, and the end mark
        logs = [math.log10((self.pairs.get(a + b, 0) + 1) / (self.firsts.get(a, 0) + size))
                for token in tokens(label) for a, b in itertools.pairwise(f"^{token}$")]
        return sum(logs) / len(logs) if logs else 0.0

    def threshold(self, label: str) -> float | None:
        """The threshold of the label's length band (None: too few letters to call)."""
        index = band(sum(map(len, tokens(label))))
        return None if index is None else self.thresholds[index]


def _bigrams(word: str) -> list[str]:
    text = f"^{word}$"
    return [text[i : i + 2] for i in range(len(text) - 1)]


def calibration_labels() -> list[str]:
    """The registered-domain labels of the shipped benign list."""
    lines = CALIBRATION.read_text().splitlines()
    return [chosen_label(line.strip()) for line in lines if line.strip() and not line.startswith("#")]


def calibrate(draft: BigramModel, labels: list[str], percentile: float = PERCENTILE) -> tuple[float, ...]:
    """Each band's ``percentile`` percentile of the scores of ``labels`` in that band."""
    scores: list[list[float]] = [[] for _ in BANDS]
    for label in labels:
        index = band(sum(map(len, tokens(label))))
        if index is not None:
            scores[index].append(draft.score(label))
    return tuple(sorted(s)[int(len(s) * percentile / 100)] for s in scores)


@lru_cache(maxsize=1)
def model() -> BigramModel:
    """The model of the shipped word list, calibrated on the shipped benign names (once per process)."""
    from english_words import get_english_words_set

    words = get_english_words_set(["web2"], alpha=True, lower=True)
    pairs = Counter(pair for word in words for pair in _bigrams(word))
    firsts: Counter[str] = Counter()
    for pair, n in pairs.items():
        firsts[pair[0]] += n
    draft = BigramModel(dict(pairs), dict(firsts), len(words), ())
    return BigramModel(draft.pairs, draft.firsts, len(words), calibrate(draft, calibration_labels()))


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
    threshold: float | None  # of the label's length band; None: too few letters to score
    switches: int

    @property
    def dga(self) -> bool:
        if self.label.startswith("xn--"):
            return False
        return self.switches >= SWITCHES or (self.threshold is not None and self.bigram < self.threshold)

    def as_json(self) -> dict[str, object]:
        return {"label": self.label, "entropy": round(self.entropy, 3), "bigram_score": round(self.bigram, 3),
                "threshold": None if self.threshold is None else round(self.threshold, 3),
                "letters": sum(map(len, tokens(self.label))), "min_letters": MIN_LETTERS,
                "switches": self.switches, "dga_like": self.dga, "list": SOURCE}


def chosen_label(name: str) -> str:
    """The registered domain's own label (the name's first label when it has no registered domain)."""
    domain = registered_domain(name) or name
    return domain.split(".", 1)[0]


def lexical(name: str) -> Lexical:
    """The lexical signals of ``name``'s registered-domain label."""
    label = chosen_label(name)
    found = model()
    return Lexical(label, entropy(label), found.score(label), found.threshold(label), len(SWITCH.findall(label)))
