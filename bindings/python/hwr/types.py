"""Result types: small immutable dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

__all__ = ["Candidate", "CharResult", "LineResult", "ModelInfo", "ServingStats"]


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


@dataclass(frozen=True)
class ServingStats:
    """Serving statistics of a worker since it started (:meth:`hwr.Client.model_info`).

    Attributes:
        requests: requests answered.
        errors: requests answered with a status other than OK.
        overloaded: requests refused because the queue was full.
        latency_p50_ms, latency_p90_ms, latency_p99_ms: the worker's own latency percentiles
            (receiving a request to sending its reply), in milliseconds.
        uptime_s: seconds since the worker started.
    """

    requests: int
    errors: int
    overloaded: int
    latency_p50_ms: float
    latency_p90_ms: float
    latency_p99_ms: float
    uptime_s: float


@dataclass(frozen=True)
class ModelInfo:
    """What a worker serves (:meth:`hwr.Client.model_info`).

    Attributes:
        model_name, model_version: the character model (as :attr:`hwr.Engine.model_name` and
            :attr:`hwr.Engine.model_version`).
        charset: the characters the character model can output, in class order.
        line_model: whether the worker has a line model (``recognize_line`` works).
        library_version: the worker's libhwr version, ``"MAJOR.MINOR.PATCH"``.
        abi_version: the worker's libhwr ABI version.
        max_message_bytes, max_pixels, max_batch: the worker's limits (a request beyond them gets
            :class:`hwr.ImageTooLargeError`).
        stats: the worker's serving statistics.
    """

    model_name: str
    model_version: str
    charset: str
    line_model: bool
    library_version: str
    abi_version: int
    max_message_bytes: int
    max_pixels: int
    max_batch: int
    stats: ServingStats
