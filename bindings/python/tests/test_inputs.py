"""Every image type the binding accepts gives the same recognition as the plain grey array."""

from __future__ import annotations

import io
import pathlib
from typing import Any, Callable, Dict

import numpy as np
import pytest
from PIL import Image

import hwr
import _glyphs
from hwr import _lib

CHAR = "7"  # the model reads this synthetic shape as "7" with probability near 1


@pytest.fixture(scope="module")
def gray() -> np.ndarray:
    return _glyphs.gray(CHAR)


@pytest.fixture(scope="module")
def reference(engine: hwr.Engine, gray: np.ndarray) -> hwr.CharResult:
    r = engine.recognize_char(gray, top_k=5)
    assert r.text == CHAR
    return r


def png_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def pgm_bytes(a: np.ndarray) -> bytes:
    h, w = a.shape
    return f"P5\n{w} {h}\n255\n".encode() + a.tobytes()


def assert_same(r: hwr.CharResult, ref: hwr.CharResult, tol: float = 1e-5) -> None:
    assert [c.text for c in r.candidates] == [c.text for c in ref.candidates]
    assert r.text == ref.text
    for c, d in zip(r.candidates, ref.candidates):
        assert c.probability == pytest.approx(d.probability, abs=tol)


def _rgb(a: np.ndarray) -> np.ndarray:
    return np.repeat(a[:, :, None], 3, axis=2)


def _rgba(a: np.ndarray) -> np.ndarray:
    return np.dstack([_rgb(a), np.full(a.shape, 255, np.uint8)])


def _padded_view(a: np.ndarray) -> np.ndarray:
    big = np.full((a.shape[0] + 20, a.shape[1] + 30), 255, np.uint8)
    big[7:7 + a.shape[0], 11:11 + a.shape[1]] = a
    view = big[7:7 + a.shape[0], 11:11 + a.shape[1]]
    assert not view.flags.c_contiguous and view.strides[0] == big.shape[1]
    return view


def _fortran(a: np.ndarray) -> np.ndarray:
    f = np.asfortranarray(a)
    assert not f.flags.c_contiguous
    return f


def _negative_row_stride(a: np.ndarray) -> np.ndarray:
    g = np.ascontiguousarray(a[::-1])[::-1]  # same pixels, rows walked backwards in memory
    assert g.strides[0] < 0 and np.array_equal(g, a)
    return g


def _every_other_column(a: np.ndarray) -> np.ndarray:
    wide = np.repeat(a, 2, axis=1)
    v = wide[:, ::2]
    assert v.strides[1] == 2
    return v


def _rgba_view(a: np.ndarray) -> np.ndarray:
    big = np.full((a.shape[0] + 4, a.shape[1] + 4, 4), 255, np.uint8)
    big[2:-2, 2:-2, :] = _rgba(a)
    return big[2:-2, 2:-2, :]


def _rgb_channels_last_view(a: np.ndarray) -> np.ndarray:
    planar = np.stack([a, a, a])  # 3 x H x W
    v = np.moveaxis(planar, 0, 2)  # H x W x 3, non-contiguous
    assert not v.flags.c_contiguous
    return v


CONVERSIONS: Dict[str, Callable[[np.ndarray], Any]] = {
    "numpy gray": lambda a: a,
    "numpy HxWx1": lambda a: a[:, :, None],
    "numpy RGB": _rgb,
    "numpy RGBA": _rgba,
    "numpy strided view": _padded_view,
    "numpy fortran order": _fortran,
    "numpy negative stride": _negative_row_stride,
    "numpy column step": _every_other_column,
    "numpy RGBA view": _rgba_view,
    "numpy RGB non-contiguous": _rgb_channels_last_view,
    "PNG bytes": png_bytes,
    "PNG bytearray": lambda a: bytearray(png_bytes(a)),
    "PNG memoryview": lambda a: memoryview(png_bytes(a)),
    "PNG writable memoryview": lambda a: memoryview(bytearray(png_bytes(a))),
    "PGM bytes": pgm_bytes,
    "PIL L": Image.fromarray,
    "PIL RGB": lambda a: Image.fromarray(a).convert("RGB"),
    "PIL RGBA": lambda a: Image.fromarray(a).convert("RGBA"),
    "PIL LA": lambda a: Image.fromarray(a).convert("LA"),
    "PIL P": lambda a: Image.fromarray(a).convert("P"),
    "array-like object": lambda a: _ArrayLike(a),
}


class _ArrayLike:
    """An object exposing only ``__array_interface__`` (like many array libraries)."""

    def __init__(self, a: np.ndarray) -> None:
        self._a = a
        self.__array_interface__ = a.__array_interface__


@pytest.mark.parametrize("kind", list(CONVERSIONS))
def test_input_types_match_gray_array(engine: hwr.Engine, gray: np.ndarray, reference: hwr.CharResult,
                                      kind: str) -> None:
    image = CONVERSIONS[kind](gray)
    r = engine.recognize_char(image, top_k=5)
    assert_same(r, reference)


@pytest.mark.parametrize("as_str", [True, False])
def test_path_input(engine: hwr.Engine, gray: np.ndarray, reference: hwr.CharResult, tmp_path: pathlib.Path,
                    as_str: bool) -> None:
    p = tmp_path / "seven.png"
    p.write_bytes(png_bytes(gray))
    r = engine.recognize_char(str(p) if as_str else p, top_k=5)
    assert_same(r, reference)


def test_jpeg_bytes(engine: hwr.Engine, gray: np.ndarray) -> None:
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="JPEG", quality=90)
    assert engine.recognize_char(buf.getvalue()).text == CHAR


def test_pil_mode_1(engine: hwr.Engine, gray: np.ndarray) -> None:
    img = Image.fromarray(gray).convert("1")
    assert img.mode == "1"
    assert engine.recognize_char(img).text == CHAR


def test_transparent_background_rgba(engine: hwr.Engine) -> None:
    ink = _glyphs.ink(CHAR)
    rgba = np.zeros(ink.shape + (4,), np.uint8)  # black ink, alpha = coverage, rest transparent
    rgba[:, :, 3] = np.round(255 * ink).astype(np.uint8)
    assert engine.recognize_char(rgba).text == CHAR
    assert engine.recognize_char(Image.fromarray(rgba)).text == CHAR


def test_light_ink_on_dark(engine: hwr.Engine, gray: np.ndarray) -> None:
    assert engine.recognize_char(255 - gray).text == CHAR


def test_array_not_modified(engine: hwr.Engine, gray: np.ndarray) -> None:
    rgb = _rgb(gray)
    before = rgb.copy()
    engine.recognize_char(rgb)
    assert np.array_equal(rgb, before)


@pytest.mark.parametrize("bad", [
    np.zeros((8, 8), np.float32),
    np.zeros((8, 8), np.uint16),
    np.zeros((8, 8), bool),
    np.zeros((8,), np.uint8),
    np.zeros((2, 8, 8, 1), np.uint8),
    np.zeros((8, 8, 2), np.uint8),
    np.zeros((8, 8, 5), np.uint8),
], ids=["float32", "uint16", "bool", "1-D", "4-D", "2 channels", "5 channels"])
def test_bad_arrays_raise_invalid_argument(engine: hwr.Engine, bad: np.ndarray) -> None:
    with pytest.raises(hwr.InvalidArgumentError) as info:
        engine.recognize_char(bad)
    assert info.value.status == 1
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("bad", [42, 3.5, None, [[0, 255]], {"a": 1}], ids=["int", "float", "None", "list", "dict"])
def test_unsupported_types_raise_type_error(engine: hwr.Engine, bad: Any) -> None:
    with pytest.raises(TypeError, match="image must be"):
        engine.recognize_char(bad)


def test_pil_float_mode_refused(engine: hwr.Engine, gray: np.ndarray) -> None:
    img = Image.fromarray(gray).convert("F")
    assert img.mode == "F"
    with pytest.raises(hwr.InvalidArgumentError, match="mode 'F'"):
        engine.recognize_char(img)


def test_missing_path_raises_io_error(engine: hwr.Engine, tmp_path: pathlib.Path) -> None:
    missing = tmp_path / "nope.png"
    with pytest.raises(hwr.HwrIOError) as info:
        engine.recognize_char(missing)
    assert info.value.status == 2
    assert "nope.png" in info.value.message


def test_directory_path_raises_io_error(engine: hwr.Engine, tmp_path: pathlib.Path) -> None:
    with pytest.raises(hwr.HwrIOError):
        engine.recognize_char(str(tmp_path))


def test_strided_views_are_passed_without_copy(gray: np.ndarray) -> None:
    from hwr import _images, _lib

    view = _padded_view(gray)
    p = _images.prepare(view)
    assert p.format == _lib.HWR_IMAGE_GRAY8
    assert (p.width, p.height, p.stride) == (gray.shape[1], gray.shape[0], view.strides[0])
    assert p.data == view.ctypes.data  # the caller's memory, no copy
    assert p.size == view.strides[0] * (gray.shape[0] - 1) + gray.shape[1]  # never past the last pixel
    rgba = _rgba_view(gray)
    q = _images.prepare(rgba)
    assert q.format == _lib.HWR_IMAGE_RGBA8 and q.data == rgba.ctypes.data and q.stride == rgba.strides[0]
    assert q.size == rgba.strides[0] * (gray.shape[0] - 1) + 4 * gray.shape[1]


def test_one_row_and_one_column_images(engine: hwr.Engine) -> None:
    row = np.full((1, 50), 255, np.uint8)
    row[0, 10:40] = 0
    col = np.ascontiguousarray(row.T)
    # Under HWR_MIN_IMAGE_SIDE (8) pixels on a side is too small to read, in every mode, as a view
    # or a copy alike.
    big = np.full((3, 60), 255, np.uint8)
    big[1, 5:55] = row[0]
    for image in (row, col, big[1:2, 5:55]):
        with pytest.raises(hwr.InvalidArgumentError, match="too small to read"):
            engine.recognize_char(image)
    with pytest.raises(hwr.InvalidArgumentError, match="too small to read"):
        engine.recognize_line(row)
    # A bar HWR_MIN_IMAGE_SIDE pixels wide is read.
    bar = np.full((50, _lib.HWR_MIN_IMAGE_SIDE), 255, np.uint8)
    bar[10:40, 3:5] = 0
    assert engine.recognize_char(bar, charset="0123456789").text == "1"
    with pytest.raises(hwr.InvalidArgumentError, match="too small to read"):  # one pixel narrower
        engine.recognize_char(np.ascontiguousarray(bar[:, 1:]))