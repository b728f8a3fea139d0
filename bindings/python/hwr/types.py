"""Result types: small immutable dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

__all__ = ["Candidate", "CharResult"]


@dataclass(frozen=True)
class Candidate:
    """One possible reading of an image.

    Attributes:
        text: the character (a UTF-8 string, usually one code point).
        probability: its probability in [0, 1] (renormalised over the allowed charset when a
            charset restriction was given).
    """

    text: str
    probability: float


@dataclass(frozen=True)
class CharResult:
    """The recognition of one character image.

    Attributes:
        text: the best reading (equal to ``candidates[0].text``).
        confidence: its probability in [0, 1] (equal to ``candidates[0].probability``).
        candidates: the ``top_k`` best readings, best first, *including* the best one; a tuple
            (the result is immutable).
    """

    text: str
    confidence: float
    candidates: Tuple[Candidate, ...]

    @property
    def alternatives(self) -> Tuple[Candidate, ...]:
        """Alias of :attr:`candidates`: all readings best first, including the best one."""
        return self.candidates

    @property
    def chars(self) -> Tuple[Candidate, ...]:
        """The recognised characters with their probabilities: here one, ``(Candidate(text, confidence),)``.

        Same shape as the per-character list a future line result will have.
        """
        return (Candidate(self.text, self.confidence),)

    def __str__(self) -> str:
        return self.text
