"""recognize_batch: order, per-item errors, both error policies, equality with single calls."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import hwr
import _glyphs

CHARS = ["7", "L", "T", "X", "H", "4"]


def test_batch_matches_single_calls(engine: hwr.Engine) -> None:
    images = [_glyphs.gray(c) for c in CHARS]
    batch = engine.recognize_batch(images, top_k=4)
    assert len(batch) == len(images)
    for image, r, c in zip(images, batch, CHARS):
        single = engine.recognize_char(image, top_k=4)
        assert isinstance(r, hwr.CharResult)
        assert r.text == single.text == c
        assert [x.text for x in r.candidates] == [x.text for x in single.candidates]
        for a, b in zip(r.candidates, single.candidates):
            assert a.probability == pytest.approx(b.probability, abs=1e-5)


def test_batch_mixed_input_types(engine: hwr.Engine, tmp_path: pathlib.Path) -> None:
    from PIL import Image
    p = tmp_path / "t.png"
    Image.fromarray(_glyphs.gray("T")).save(p)
    images = [p, p.read_bytes(), Image.fromarray(_glyphs.gray("X")), _glyphs.gray("4")[:, :, None]]
    assert [r.text for r in engine.recognize_batch(images)] == ["T", "T", "X", "4"]


def _mixed(tmp_path: pathlib.Path) -> list:
    return [
        _glyphs.gray("7"),                   # 0 ok
        b"garbage, not an image",            # 1 decode error
        _glyphs.gray("L"),                   # 2 ok
        np.full((40, 40), 255, np.uint8),    # 3 empty
        tmp_path / "missing.png",            # 4 unreadable path
        np.zeros((5000, 5000), np.uint8),    # 5 too large
        _glyphs.gray("X"),                   # 6 ok
    ]


def test_batch_return_policy(engine: hwr.Engine, tmp_path: pathlib.Path) -> None:
    out = engine.recognize_batch(_mixed(tmp_path), errors="return")
    assert len(out) == 7
    expected = {0: "7", 2: "L", 6: "X"}
    for i, text in expected.items():
        assert isinstance(out[i], hwr.CharResult) and out[i].text == text
    errors = {1: hwr.ImageDecodeError, 3: hwr.ImageEmptyError, 4: hwr.HwrIOError, 5: hwr.ImageTooLargeError}
    for i, cls in errors.items():
        e = out[i]
        assert type(e) is cls, (i, e)
        assert e.index == i and e.message and e.status == cls.STATUS
        assert str(e).startswith(f"item {i}: ")


def test_batch_raise_policy(engine: hwr.Engine, tmp_path: pathlib.Path) -> None:
    with pytest.raises(hwr.ImageDecodeError) as info:
        engine.recognize_batch(_mixed(tmp_path))
    e = info.value
    assert e.index == 1
    assert e.results is not None and len(e.results) == 7
    assert e.results[1] is e
    assert [r.text for r in e.results if isinstance(r, hwr.CharResult)] == ["7", "L", "X"]
    assert isinstance(e.results[5], hwr.ImageTooLargeError)


def test_batch_all_good_raises_nothing(engine: hwr.Engine) -> None:
    out = engine.recognize_batch((_glyphs.gray(c) for c in CHARS), errors="raise")  # any iterable
    assert [r.text for r in out] == CHARS


def test_batch_only_bad_items(engine: hwr.Engine, tmp_path: pathlib.Path) -> None:
    out = engine.recognize_batch([b"", tmp_path / "missing.png"], errors="return")
    assert [type(e) for e in out] == [hwr.ImageEmptyError, hwr.HwrIOError]
    out = engine.recognize_batch([tmp_path / "missing.png"], errors="return")  # nothing reaches the library
    assert type(out[0]) is hwr.HwrIOError and out[0].index == 0


def test_empty_batch(engine: hwr.Engine) -> None:
    assert engine.recognize_batch([]) == []


def test_batch_charset_and_top_k(engine: hwr.Engine) -> None:
    out = engine.recognize_batch([_glyphs.gray("1"), _glyphs.gray("0")], top_k=3, charset="0123456789")
    assert [r.text for r in out] == ["1", "0"]
    assert all(len(r.candidates) == 3 and all(c.text.isdigit() for c in r.candidates) for r in out)


def test_batch_call_errors_raise_immediately(engine: hwr.Engine) -> None:
    good = _glyphs.gray("7")
    with pytest.raises(hwr.InvalidArgumentError):
        engine.recognize_batch([good], top_k=0)
    with pytest.raises(hwr.InvalidArgumentError):
        engine.recognize_batch([good], charset="@")
    with pytest.raises(hwr.InvalidArgumentError):
        engine.recognize_batch([good], errors="ignore")  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        engine.recognize_batch([good, 12345], errors="return")
    with pytest.raises(hwr.InvalidArgumentError):
        engine.recognize_batch([good, np.zeros((4, 4), np.float64)], errors="return")


def test_large_batch(engine: hwr.Engine) -> None:
    images = [_glyphs.gray(CHARS[i % len(CHARS)]) for i in range(300)]
    out = engine.recognize_batch(images, top_k=1)
    assert [r.text for r in out] == [CHARS[i % len(CHARS)] for i in range(300)]
