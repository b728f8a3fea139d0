"""Result types: small immutable dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

__all__ = ["Candidate", "CharResult", "LineResult"]


@dataclass(frozen=True)
class Candidate:
    """One possible reading (a character or a whole text) with its probability.

    Attributes:
        text: the reading (UTF-8 string).
        probability: its probability in [0, 1] (renormalised over the allowed charset when a
            charset restriction was given).
    """

    text: str
    probability: float


@dataclass(frozen=True)
class _Reading:
    text: str
    confidence: float
    candidates: Tuple[Candidate, ...]
    chars: Tuple[Candidate, ...] = ()
    rejected: bool = False

    @property
    def alternatives(self) -> Tuple[Candidate, ...]:
        """Alias of :attr:`candidates`: all readings best first, including the best one."""
        return self.candidates

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class CharResult(_Reading):
    """The recognition of one character image (``recognize_char``, ``recognize_batch``).

    Attributes:
        text: the best reading, one character (``""`` only if the item was rejected).
        confidence: the probability of the best reading, in [0, 1].
        candidates: the ``top_k`` most probable characters, best first, *including* the best one
            (a tuple: results are immutable). ``alternatives`` is an alias.
        chars: the characters of the best reading with their probabilities: here one,
            ``(Candidate(text, confidence),)``; the same shape as :attr:`LineResult.chars`.
        rejected: whether the best reading fell below ``reject_threshold`` (then ``text`` is ``""``
            while ``confidence``, ``candidates`` and ``chars`` stay readable).
    """


@dataclass(frozen=True)
class LineResult(_Reading):
    """The reading of a word, code or line (``recognize_line``, ``recognize_lines``,
    ``recognize_sequence``).

    Attributes:
        text: the best reading of the whole text (``""`` if the item was rejected).
        confidence: its probability, in [0, 1].
        candidates: the alternative readings of the whole text, best first, *including* the best
            one (at most ``alternatives`` of them). ``alternatives`` is an alias.
        chars: one entry per character of the best reading, with that character's probability.
        rejected: whether the best reading fell below ``reject_threshold`` (then ``text`` is ``""``
            while ``confidence``, ``candidates`` and ``chars`` stay readable).
    """
