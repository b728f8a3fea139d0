"""Every error path gives the documented HwrError subclass with its status and a message."""

from __future__ import annotations

import io
import math
import pathlib
from typing import Type

import numpy as np
import pytest
from PIL import Image

import hwr
import _glyphs
from hwr import _lib

#: The largest square image the library accepts (HWR_MAX_IMAGE_PIXELS = 4096 x 4096).
MAX_SIDE = math.isqrt(_lib.HWR_MAX_IMAGE_PIXELS)


def _check(info: "pytest.ExceptionInfo[hwr.HwrError]", cls: Type[hwr.HwrError], status: int) -> None:
    e = info.value
    assert type(e) is cls
    assert e.status == status == cls.STATUS
    assert isinstance(e.message, str) and e.message
    assert str(e) == e.message
    assert e.index is None


# ---- model errors -----------------------------------------------------------------------------

def test_missing_model_is_io_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(hwr.HwrIOError) as info:
        hwr.Engine(tmp_path / "missing.hwrm")
    _check(info, hwr.HwrIOError, 2)


def test_garbage_model_is_model_format_error(tmp_path: pathlib.Path) -> None:
    p = tmp_path / "garbage.hwrm"
    p.write_bytes(np.random.default_rng(0).integers(0, 256, 100_000, dtype=np.uint8).tobytes())
    with pytest.raises(hwr.ModelFormatError) as info:
        hwr.Engine(str(p))
    _check(info, hwr.ModelFormatError, 3)


def test_truncated_model_is_model_format_error(tmp_path: pathlib.Path, model_path: str) -> None:
    data = pathlib.Path(model_path).read_bytes()
    p = tmp_path / "truncated.hwrm"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(hwr.ModelFormatError) as info:
        hwr.Engine(p)
    _check(info, hwr.ModelFormatError, 3)


def test_corrupted_model_is_model_format_error(tmp_path: pathlib.Path, model_path: str) -> None:
    data = bytearray(pathlib.Path(model_path).read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = b"\xff" * 64  # damage the weights: checksum must catch it
    p = tmp_path / "corrupted.hwrm"
    p.write_bytes(bytes(data))
    with pytest.raises(hwr.ModelFormatError) as info:
        hwr.Engine(p)
    _check(info, hwr.ModelFormatError, 3)


def test_empty_model_file_is_model_format_error(tmp_path: pathlib.Path) -> None:
    p = tmp_path / "empty.hwrm"
    p.write_bytes(b"")
    with pytest.raises(hwr.ModelFormatError):
        hwr.Engine(p)


def test_negative_threads_is_invalid_argument() -> None:
    with pytest.raises(hwr.InvalidArgumentError):
        hwr.Engine(threads=-1)
    with pytest.raises(TypeError):
        hwr.Engine(threads=1.5)  # type: ignore[arg-type]


# ---- image errors -----------------------------------------------------------------------------

def test_garbage_bytes_is_decode_error(engine: hwr.Engine) -> None:
    with pytest.raises(hwr.ImageDecodeError) as info:
        engine.recognize_char(b"this is not an image at all")
    _check(info, hwr.ImageDecodeError, 4)


def test_truncated_png_is_decode_error(engine: hwr.Engine) -> None:
    buf = io.BytesIO()
    Image.fromarray(_glyphs.gray("7")).save(buf, format="PNG")
    data = buf.getvalue()
    with pytest.raises(hwr.ImageDecodeError) as info:
        engine.recognize_char(data[: len(data) // 2])
    _check(info, hwr.ImageDecodeError, 4)


def test_truncated_pgm_is_decode_error(engine: hwr.Engine) -> None:
    with pytest.raises(hwr.ImageDecodeError):
        engine.recognize_char(b"P5\n64 64\n255\n" + b"\xff" * 100)


def test_empty_bytes_is_empty_error(engine: hwr.Engine) -> None:
    with pytest.raises(hwr.ImageEmptyError) as info:
        engine.recognize_char(b"")
    _check(info, hwr.ImageEmptyError, 6)


@pytest.mark.parametrize("value", [255, 0, 128], ids=["white", "black", "grey"])
def test_blank_image_is_empty_error(engine: hwr.Engine, value: int) -> None:
    with pytest.raises(hwr.ImageEmptyError) as info:
        engine.recognize_char(np.full((64, 64), value, np.uint8))
    _check(info, hwr.ImageEmptyError, 6)


def test_fully_transparent_is_empty_error(engine: hwr.Engine) -> None:
    with pytest.raises(hwr.ImageEmptyError):
        engine.recognize_char(np.zeros((32, 32, 4), np.uint8))


@pytest.mark.parametrize("shape", [(0, 0), (0, 12), (12, 0), (0, 5, 4)])
def test_zero_sized_array_is_empty_error(engine: hwr.Engine, shape: tuple) -> None:
    with pytest.raises(hwr.ImageEmptyError):
        engine.recognize_char(np.zeros(shape, np.uint8))


@pytest.mark.parametrize("shape", [(5000, 5000), (1, _lib.HWR_MAX_IMAGE_SIDE + 1), (MAX_SIDE + 1, MAX_SIDE + 1, 3)],
                         ids=["5000x5000", "side", "rgb"])
def test_too_large_image(engine: hwr.Engine, shape: tuple) -> None:
    with pytest.raises(hwr.ImageTooLargeError) as info:
        engine.recognize_char(np.zeros(shape, np.uint8))
    _check(info, hwr.ImageTooLargeError, 5)


def test_largest_allowed_image_is_accepted(engine: hwr.Engine) -> None:
    big = np.full((MAX_SIDE, MAX_SIDE), 255, np.uint8)
    big[1000:3000, 1000:3000] = np.kron(_glyphs.gray("7", size=40), np.ones((50, 50), np.uint8))
    assert engine.recognize_char(big).text == "7"


# ---- option errors ----------------------------------------------------------------------------

@pytest.mark.parametrize("top_k", [0, -1, 37, 10**6, 2**40])
def test_bad_top_k_is_invalid_argument(engine: hwr.Engine, top_k: int) -> None:
    with pytest.raises(hwr.InvalidArgumentError) as info:
        engine.recognize_char(_glyphs.gray("7"), top_k=top_k)
    _check(info, hwr.InvalidArgumentError, 1)


def test_top_k_wrong_type(engine: hwr.Engine) -> None:
    with pytest.raises(TypeError):
        engine.recognize_char(_glyphs.gray("7"), top_k="3")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        engine.recognize_char(_glyphs.gray("7"), top_k=True)


@pytest.mark.parametrize("charset", ["", "7@", "é", "1\x002"])
def test_bad_charset_is_invalid_argument(engine: hwr.Engine, charset: str) -> None:
    with pytest.raises(hwr.InvalidArgumentError):
        engine.recognize_char(_glyphs.gray("7"), charset=charset)


# ---- mapping ----------------------------------------------------------------------------------

def test_every_status_maps_to_its_class() -> None:
    from hwr.errors import error_for_status

    classes = [hwr.InvalidArgumentError, hwr.HwrIOError, hwr.ModelFormatError, hwr.ImageDecodeError,
               hwr.ImageTooLargeError, hwr.ImageEmptyError, hwr.UnsupportedError, hwr.OutOfMemoryError,
               hwr.InternalError]
    for status, cls in enumerate(classes, start=1):
        e = error_for_status(status, "m")
        assert type(e) is cls and e.status == status and isinstance(e, hwr.HwrError)
        assert hwr.status_string(status) not in ("", "ok", "unknown status")
    unknown = error_for_status(99, "m")
    assert type(unknown) is hwr.InternalError and unknown.status == 99
    assert hwr.status_string(0) not in ("", "unknown status")
    assert hwr.status_string(99) == "unknown status"


def test_error_message_comes_from_last_error(engine: hwr.Engine) -> None:
    with pytest.raises(hwr.ImageTooLargeError) as info:
        engine.recognize_char(np.zeros((5000, 5000), np.uint8))
    assert "5000" in info.value.message


def test_a_nul_in_a_path_or_an_unencodable_option_is_an_invalid_argument(engine: hwr.Engine) -> None:
    # Issue 14: these escaped as a plain ValueError and UnicodeEncodeError.
    with pytest.raises(hwr.InvalidArgumentError, match="NUL"):
        engine.recognize_char("a\0b.png")
    with pytest.raises(hwr.InvalidArgumentError, match="charset"):
        engine.recognize_char(np.zeros((28, 28), dtype=np.uint8), charset="\udcff")
