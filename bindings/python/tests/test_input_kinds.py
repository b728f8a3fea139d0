"""The input kinds users report as breaking recognisers, through the C ABI (Tests/Fixtures/inputs).

The same files and answers as the Swift test ``InputKindTests``: phone photos stored sideways, CMYK
JPEGs, transparent cards, frames, shadows, ruled and grid paper, thin pens, blank paper and strips too
small to read. Character-mode rows must give their text, ``EMPTY`` an ``ImageEmptyError`` and
``INVALID`` an ``InvalidArgumentError``; the two-line and two-word images get a clear error in
character mode rather than one wrong glyph.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import List, Tuple

import pytest

import hwr

INPUTS = Path(__file__).resolve().parents[3] / "Tests" / "Fixtures" / "inputs"


def rows(mode: str) -> List[Tuple[str, str]]:
    with open(INPUTS / "manifest.csv", newline="", encoding="utf-8") as fh:
        return [(r["file"], r["expected"]) for r in csv.DictReader(fh) if r["mode"] == mode]


@pytest.mark.parametrize("name,expected", rows("char"))
def test_character_input_gives_its_answer(engine: hwr.Engine, name: str, expected: str) -> None:
    path = str(INPUTS / name)
    if expected == "EMPTY":
        with pytest.raises(hwr.ImageEmptyError, match="nothing written"):
            engine.recognize_char(path)
    elif expected == "INVALID":
        with pytest.raises(hwr.InvalidArgumentError, match="too small"):
            engine.recognize_char(path)
    else:
        assert engine.recognize_char(path).text == expected


def test_encoded_bytes_read_like_the_file(engine: hwr.Engine) -> None:
    # The EXIF orientation travels with the bytes, not the file name.
    data = (INPUTS / "exif-orientation-8.jpg").read_bytes()
    assert engine.recognize_char(data).text == engine.recognize_char(str(INPUTS / "exif-orientation-8.jpg")).text


@pytest.mark.parametrize("name,message", [("08-two-lines.png", "lines of writing"),
                                          ("09-two-words-with-space.png", "side by side")])
def test_several_glyphs_in_character_mode_are_a_clear_error(engine: hwr.Engine, name: str, message: str) -> None:
    with pytest.raises(hwr.InvalidArgumentError, match=message):
        engine.recognize_char(str(INPUTS / name))
