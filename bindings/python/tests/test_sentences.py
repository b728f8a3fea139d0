"""Sentences from character images: a blank image in a sequence is a space (issue 13)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import hwr
from conftest import FIXTURES


def test_blank_images_separate_the_words_of_a_sequence(engine: hwr.Engine) -> None:
    with open(FIXTURES / "manifest.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["source"] == "mnist"][:4]
    digits = [str(FIXTURES / r["path"]) for r in rows]
    blank = np.full((40, 40), 250, dtype=np.uint8)
    result = engine.recognize_sequence([digits[0], digits[1], blank, digits[2], digits[3]], charset="digits")
    words = result.text.split(" ")
    assert words == [rows[0]["label"] + rows[1]["label"], rows[2]["label"] + rows[3]["label"]], result.text
    assert "".join(c.text for c in result.chars) == result.text
    with pytest.raises(hwr.ImageEmptyError):
        engine.recognize_sequence([blank, blank])
