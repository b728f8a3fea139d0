"""Result types: small immutable dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, NamedTuple, Optional, Tuple

__all__ = ["Box", "Candidate", "CharResult", "LineResult", "ModelInfo", "Page", "PageLine", "ServingStats",
           "Word"]


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


class Box(NamedTuple):
    """A rectangle in pixels of the original image, as it is meant to be viewed (after its EXIF
    orientation is applied): the top-left corner and the size. A tuple, so ``x, y, w, h = box``.

    Attributes:
        x: left edge (column of the first pixel inside the box).
        y: top edge (row of the first pixel inside the box).
        width: width in pixels.
        height: height in pixels.
    """

    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        """``x + width``: the column just right of the box."""
        return self.x + self.width

    @property
    def bottom(self) -> int:
        """``y + height``: the row just below the box."""
        return self.y + self.height


@dataclass(frozen=True)
class Word:
    """A word of a page line (``recognize_page``, or ``LineResult.page``).

    Attributes:
        text: the word (no spaces).
        confidence: its probability, the product of its characters' probabilities, in [0, 1].
        box: where it is written, in the original image's pixels.
    """

    text: str
    confidence: float
    box: Box

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class PageLine:
    """A line of a page, found by the library's line segmentation and read by the line model.

    Attributes:
        text: the line's reading, its words separated by single spaces (``""`` if the line's
            reading fell below ``reject_threshold``: rejection applies to each line of a page).
        confidence: the probability of the line's reading, in [0, 1].
        box: where the line is written, in the original image's pixels.
        words: its words, left to right (none for a rejected line).
    """

    text: str
    confidence: float
    box: Box
    words: Tuple[Word, ...] = ()

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Page:
    """The reading of a page, note or form field with several lines (``recognize_page``,
    ``recognize_pages``, or :attr:`LineResult.page` in auto mode). ``str(page)`` is its text.

    Attributes:
        text: the lines' texts, top to bottom, joined by ``"\\n"``.
        confidence: the page's confidence in [0, 1] (the library's: the mean of its lines'
            confidences).
        lines: the lines, top to bottom, each with its box and words.
    """

    text: str
    confidence: float
    lines: Tuple[PageLine, ...] = ()

    @property
    def words(self) -> Tuple[Word, ...]:
        """Every word of the page, in reading order (line by line, left to right)."""
        return tuple(w for line in self.lines for w in line.words)

    def __str__(self) -> str:
        return self.text


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
        page: the layout when the image was read as a page (``recognize_line(..., auto=True)`` on
            an image holding several lines: then ``text`` is the lines joined by ``"\\n"``, equal
            to ``page.text``, ``candidates`` holds that text alone and ``chars`` is empty), else
            ``None``.
    """

    page: Optional[Page] = None


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
        line_model: whether the worker has a line model (codes).
        library_version: the worker's libhwr version, ``"MAJOR.MINOR.PATCH"``.
        abi_version: the worker's libhwr ABI version.
        max_message_bytes, max_pixels, max_batch: the worker's limits (a request beyond them gets
            :class:`hwr.ImageTooLargeError`).
        stats: the worker's serving statistics.
        text_model: whether the worker has a text-line model (free text; ``recognize_line``
            works when it has either).
        precisions: precision of each model the worker has loaded, as
            :attr:`hwr.Engine.precisions` (``{"char": "fp32", "text": "int8"}``; empty from a worker
            older than 1.3.0).
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
    text_model: bool = False
    precisions: Dict[str, str] = field(default_factory=dict)
