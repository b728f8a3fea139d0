"""Line, auto and sequence reading (HWR_MODE_LINE, HWR_MODE_AUTO, hwr_recognize_sequence).

The line model's accuracy is measured by the Swift tests; here the binding's behaviour is checked:
result structure, that decoding constraints (charset, pattern, lexicon) hold, rejection, options
and errors. Exact texts are asserted only for the sequence call, which reads segmented characters.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap
from typing import Iterator

import numpy as np
import pytest

import hwr
import _glyphs

PACKAGE_DIR = str(pathlib.Path(hwr.__file__).resolve().parent.parent)


def word(chars: str, gap: int = 8) -> np.ndarray:
    """Synthetic characters side by side on one white strip."""
    parts = []
    for c in chars:
        parts += [_glyphs.gray(c, 64, 6), np.full((64, gap), 255, np.uint8)]
    return np.hstack([np.full((64, 16), 255, np.uint8)] + parts + [np.full((64, 16), 255, np.uint8)])


@pytest.fixture(scope="module")
def line_engine(engine: hwr.Engine) -> Iterator[hwr.Engine]:
    if engine.line_model_path is None:
        pytest.fail("the engine found no line model: set HWR_LINE_MODEL or install models/hwr-line.hwrm")
    yield engine


def check_structure(r: hwr.LineResult, alternatives: int = 5) -> None:
    assert isinstance(r, hwr.LineResult)
    assert 1 <= len(r.candidates) <= alternatives
    assert r.alternatives == r.candidates
    probs = [c.probability for c in r.candidates]
    assert probs == sorted(probs, reverse=True) and all(0.0 <= p <= 1.0 for p in probs)
    assert len({c.text for c in r.candidates}) == len(r.candidates)
    assert 0.0 <= r.confidence <= 1.0
    if not r.rejected:
        assert r.text == r.candidates[0].text
        assert r.confidence == pytest.approx(r.candidates[0].probability, abs=1e-6)
        assert "".join(c.text for c in r.chars) == r.text
    assert all(0.0 <= c.probability <= 1.0 for c in r.chars)


def test_line_model_information(line_engine: hwr.Engine) -> None:
    assert os.path.isfile(line_engine.line_model_path or "")
    assert "line_model=" in repr(line_engine)


@pytest.mark.parametrize("chars", ["74", "7L4", "XH"])
def test_line_result_structure(line_engine: hwr.Engine, chars: str) -> None:
    r = line_engine.recognize_line(word(chars))
    check_structure(r)
    assert r.text and not r.rejected


def test_line_alternatives_option(line_engine: hwr.Engine) -> None:
    r = line_engine.recognize_line(word("7L4"), alternatives=2)
    check_structure(r, alternatives=2)
    assert len(line_engine.recognize_line(word("7L4"), alternatives=1).candidates) == 1


def test_line_charset_constraint(line_engine: hwr.Engine) -> None:
    r = line_engine.recognize_line(word("7L4"), charset="0123456789")
    check_structure(r)
    assert all(re.fullmatch(r"[0-9]+", c.text) for c in r.candidates)


def test_line_pattern_constraint(line_engine: hwr.Engine) -> None:
    r = line_engine.recognize_line(word("7L4"), pattern=r"\d\a\d")
    check_structure(r)
    assert all(re.fullmatch(r"[0-9][A-Z][0-9]", c.text) for c in r.candidates), r.candidates


def test_line_lexicon_constraint(line_engine: hwr.Engine) -> None:
    lexicon = ["7L4", "XYZ", "ABC"]
    r = line_engine.recognize_line(word("7L4"), lexicon=lexicon)
    check_structure(r)
    assert {c.text for c in r.candidates} <= set(lexicon)
    # case-insensitive words, any iterable
    r2 = line_engine.recognize_line(word("7L4"), lexicon=(w.lower() for w in lexicon))
    assert r2.text.upper() in lexicon


def test_line_reject_threshold(line_engine: hwr.Engine) -> None:
    r = line_engine.recognize_line(word("7L4"), reject_threshold=1.0)
    assert r.rejected and r.text == ""
    assert r.candidates and not r.chars  # the alternatives stay readable; a rejected item has no characters
    assert not line_engine.recognize_line(word("7L4")).rejected


def test_auto_mode_single_character_uses_char_model(line_engine: hwr.Engine) -> None:
    image = _glyphs.gray("7")
    auto = line_engine.recognize_line(image, auto=True)
    char = line_engine.recognize_char(image)
    assert isinstance(auto, hwr.LineResult)
    assert auto.text == char.text == "7"
    assert auto.confidence == pytest.approx(char.confidence, abs=1e-6)


def test_auto_mode_on_a_word_reads_several_characters(line_engine: hwr.Engine) -> None:
    r = line_engine.recognize_line(word("7L4"), auto=True)
    check_structure(r)
    assert r == line_engine.recognize_line(word("7L4"))


def test_lines_batch_with_errors(line_engine: hwr.Engine) -> None:
    images = [word("74"), b"junk", word("XH"), np.full((64, 200), 255, np.uint8)]
    out = line_engine.recognize_lines(images, errors="return")
    assert isinstance(out[0], hwr.LineResult) and isinstance(out[2], hwr.LineResult)
    assert type(out[1]) is hwr.ImageDecodeError and out[1].index == 1
    assert type(out[3]) is hwr.ImageEmptyError and out[3].index == 3
    single = line_engine.recognize_line(word("74"))
    assert out[0].text == single.text
    with pytest.raises(hwr.ImageDecodeError) as info:
        line_engine.recognize_lines(images)
    assert info.value.index == 1 and info.value.results is not None and len(info.value.results) == 4


@pytest.mark.parametrize("chars", ["7L4", "4XH7", "T"])
def test_sequence_reads_segmented_characters(line_engine: hwr.Engine, chars: str) -> None:
    r = line_engine.recognize_sequence([_glyphs.gray(c) for c in chars])
    check_structure(r)
    assert r.text == chars
    assert [c.text for c in r.chars] == list(chars)


def test_sequence_with_pattern_and_charset(line_engine: hwr.Engine) -> None:
    images = [_glyphs.gray(c) for c in ["1", "0", "7"]]
    assert line_engine.recognize_sequence(images, charset="0123456789").text == "107"
    assert line_engine.recognize_sequence(images, pattern=r"\d{3}").text == "107"


def test_sequence_errors(line_engine: hwr.Engine, tmp_path: pathlib.Path) -> None:
    good = _glyphs.gray("7")
    with pytest.raises(hwr.ImageDecodeError) as info:
        line_engine.recognize_sequence([good, b"junk", good])
    assert re.search(r"\b1\b", info.value.message)  # the message names the failing image (index 1)
    with pytest.raises(hwr.HwrIOError) as io_info:
        line_engine.recognize_sequence([good, tmp_path / "missing.png"])
    assert io_info.value.index == 1
    with pytest.raises(hwr.InvalidArgumentError):
        line_engine.recognize_sequence([])


@pytest.mark.parametrize("kwargs", [
    {"beam_width": 0}, {"beam_width": 1001}, {"alternatives": 0}, {"alternatives": 101},
    {"pattern": "[A-"}, {"pattern": ""}, {"lexicon": []}, {"lexicon": [""]},
    {"reject_threshold": 1.5}, {"reject_threshold": -0.1}, {"reject_threshold": float("nan")},
    {"charset": "@"},
])
def test_line_bad_options(line_engine: hwr.Engine, kwargs: dict) -> None:
    with pytest.raises(hwr.InvalidArgumentError):
        line_engine.recognize_line(word("74"), **kwargs)


@pytest.mark.parametrize("kwargs", [{"lexicon": "7L4"}, {"beam_width": 2.0}, {"pattern": 5},
                                    {"reject_threshold": "high"}])
def test_line_option_types(line_engine: hwr.Engine, kwargs: dict) -> None:
    with pytest.raises(TypeError):
        line_engine.recognize_line(word("74"), **kwargs)


def test_char_reject_threshold(engine: hwr.Engine) -> None:
    # reject_threshold applies to every mode (hwr.h does not restrict it to line decoding).
    r = engine.recognize_char(_glyphs.gray("7"), reject_threshold=1.0)
    assert r.rejected and r.text == ""
    assert r.candidates[0].text == "7"
    assert not engine.recognize_char(_glyphs.gray("7"), reject_threshold=0.5).rejected


def test_char_result_chars(engine: hwr.Engine) -> None:
    r = engine.recognize_char(_glyphs.gray("7"))
    assert r.chars == (hwr.Candidate(r.text, r.confidence),)


# ---- engines with other line models ---------------------------------------------------------

def test_missing_line_model_is_io_error(model_path: str, tmp_path: pathlib.Path) -> None:
    with pytest.raises(hwr.HwrIOError):
        hwr.Engine(model_path, line_model=tmp_path / "missing.hwrm")


def test_char_model_as_line_model_is_model_format_error(model_path: str) -> None:
    with pytest.raises(hwr.ModelFormatError):
        hwr.Engine(model_path, line_model=model_path)


def test_explicit_line_model(model_path: str, line_engine: hwr.Engine) -> None:
    with hwr.Engine(model_path, line_model=pathlib.Path(line_engine.line_model_path or "")) as e:
        assert os.path.samefile(e.line_model_path or "", line_engine.line_model_path or "")
        assert e.recognize_line(word("74")) == line_engine.recognize_line(word("74"))


def test_engine_without_line_model(model_path: str, tmp_path: pathlib.Path) -> None:
    # A copy of the library in an empty prefix, run from an empty directory: no default line or
    # text-line model.
    for d in ("/usr/local/share/hwr/models", "/usr/share/hwr/models"):
        if any(os.path.exists(os.path.join(d, f)) for f in ("hwr-line.hwrm", "hwr-text.hwrm")):
            pytest.skip(f"a line model is installed in {d}")
    lib = tmp_path / "prefix" / "lib" / "libhwr.so"
    lib.parent.mkdir(parents=True)
    shutil.copy(hwr.library_path(), lib)
    env = {k: v for k, v in os.environ.items() if k not in ("HWR_LINE_MODEL", "HWR_TEXT_MODEL")}
    env.update(HWR_LIBRARY=str(lib), HWR_MODEL=model_path, PYTHONPATH=PACKAGE_DIR)
    code = textwrap.dedent("""
        import sys
        sys.path.insert(0, %r)
        import hwr, _glyphs
        with hwr.Engine() as e:
            print("LINE-MODEL", e.line_model_path)
            try:
                e.recognize_line(_glyphs.gray("7"))
            except hwr.UnsupportedError as err:
                print("UNSUPPORTED", err.status)
            print("AUTO", e.recognize_line(_glyphs.gray("7"), auto=True).text)
    """ % str(pathlib.Path(__file__).parent))
    r = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:3] == ["LINE-MODEL None", "UNSUPPORTED 7", "AUTO 7"]
