"""What an engine does to and for its host process: the pixel limit a host sets
(``hwr_engine_options.max_pixels``), the process-wide OpenBLAS setting it must leave alone
(issue 10, defect 2), and the library's diagnostics routed to Python's ``logging``."""

from __future__ import annotations

import ctypes
import logging
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

import _glyphs
import hwr
from hwr import _lib

# ---- max_pixels ----------------------------------------------------------------------------------

#: A 100 x 100 grey "7": 10,000 pixels.
SEVEN_100 = _glyphs.gray("7", size=100, thickness=9)


def test_max_pixels_lowers_the_limit(model_path: str) -> None:
    with hwr.Engine(model_path, max_pixels=5000) as e:
        with pytest.raises(hwr.ImageTooLargeError) as info:
            e.recognize_char(SEVEN_100)
        assert info.value.status == _lib.HWR_ERR_IMAGE_TOO_LARGE
        assert e.recognize_char(SEVEN_100[25:75, 25:75]).text  # 2,500 pixels: under the limit
    with hwr.Engine(model_path, max_pixels=10_000) as e:  # the limit itself is accepted
        assert e.recognize_char(SEVEN_100).text == "7"


def test_max_pixels_applies_to_every_call(model_path: str) -> None:
    with hwr.Engine(model_path, max_pixels=5000) as e:
        out = e.recognize_batch([SEVEN_100[25:75, 25:75], SEVEN_100], errors="return")
        assert isinstance(out[0], hwr.CharResult)
        assert isinstance(out[1], hwr.ImageTooLargeError) and out[1].index == 1
        with pytest.raises(hwr.ImageTooLargeError):
            e.recognize_line(np.hstack([SEVEN_100, SEVEN_100]))


@pytest.mark.parametrize("max_pixels", [None, 0], ids=["None", "0"])
def test_max_pixels_default_is_the_librarys(model_path: str, max_pixels: object) -> None:
    side = int(_lib.HWR_MAX_IMAGE_PIXELS ** 0.5)
    with hwr.Engine(model_path, max_pixels=max_pixels) as e:  # type: ignore[arg-type]
        assert e.recognize_char(SEVEN_100).text == "7"
        with pytest.raises(hwr.ImageTooLargeError):
            e.recognize_char(np.full((side + 1, side + 1), 255, np.uint8))


@pytest.mark.parametrize("max_pixels", [-1, _lib.HWR_MAX_IMAGE_PIXELS + 1], ids=["negative", "above-the-library's"])
def test_max_pixels_out_of_range_is_invalid(model_path: str, max_pixels: int) -> None:
    """hwr.h: 0 for the default, else at most HWR_MAX_IMAGE_PIXELS (an engine can only lower it)."""
    with pytest.raises(hwr.InvalidArgumentError):
        hwr.Engine(model_path, max_pixels=max_pixels)


def test_max_pixels_type() -> None:
    with pytest.raises(TypeError):
        hwr.Engine(max_pixels=5000.0)  # type: ignore[arg-type]
    with pytest.raises(hwr.InvalidArgumentError, match="out of range"):
        hwr.Engine(max_pixels=2**63)


# ---- OpenBLAS threads (issue 10, defect 2) -----------------------------------------------------

def _loaded_openblas() -> ctypes.CDLL:
    """The libopenblas that libhwr.so was loaded with (found in /proc/self/maps), opened again:
    the dynamic loader hands back the same instance."""
    _lib.get_lib()
    paths = {line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines()
             if "libopenblas" in line and line.split()[-1].startswith("/")}
    assert len(paths) == 1, f"libhwr.so should bring exactly one libopenblas into the process, found {paths}"
    blas = ctypes.CDLL(paths.pop())
    blas.openblas_get_num_threads.restype = ctypes.c_int
    blas.openblas_set_num_threads.argtypes = [ctypes.c_int]
    return blas


@pytest.fixture
def openblas() -> Iterator[ctypes.CDLL]:
    blas = _loaded_openblas()
    before = blas.openblas_get_num_threads()
    yield blas
    blas.openblas_set_num_threads(before)


@pytest.mark.parametrize("threads", [None, 1], ids=["threads=None", "threads=1"])
def test_engine_leaves_openblas_threads_alone(openblas: ctypes.CDLL, model_path: str, threads: object) -> None:
    """A host that uses OpenBLAS itself (numpy, for one) keeps its thread count: opening an engine
    and recognising do not change the process-wide setting."""
    openblas.openblas_set_num_threads(2)
    assert openblas.openblas_get_num_threads() == 2, "this OpenBLAS ignores openblas_set_num_threads"
    with hwr.Engine(model_path, threads=threads) as e:  # type: ignore[arg-type]
        assert openblas.openblas_get_num_threads() == 2, "hwr_engine_open changed OpenBLAS's thread count"
        e.recognize_batch([SEVEN_100] * 8)
        e.recognize_char(SEVEN_100)
        assert openblas.openblas_get_num_threads() == 2, "recognition changed OpenBLAS's thread count"


# ---- diagnostics to logging --------------------------------------------------------------------

@pytest.mark.parametrize("level,python_level", [
    (_lib.HWR_LOG_DEBUG, logging.DEBUG), (_lib.HWR_LOG_INFO, logging.INFO),
    (_lib.HWR_LOG_WARNING, logging.WARNING), (_lib.HWR_LOG_ERROR, logging.ERROR)])
def test_log_callback_goes_to_the_hwr_logger(caplog: pytest.LogCaptureFixture, level: int,
                                             python_level: int) -> None:
    """Through the C function pointer the library is given: a message reaches logger "hwr"."""
    with caplog.at_level(logging.DEBUG, logger="hwr"):
        _lib._log_callback(level, "décodé: 12 ms".encode("utf-8"), None)
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [("hwr", python_level, "décodé: 12 ms")]


def test_log_callback_respects_the_logger_level(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="hwr"):
        _lib._log_callback(_lib.HWR_LOG_INFO, b"not shown", None)
        _lib._log_callback(_lib.HWR_LOG_ERROR, b"shown", None)
    assert [r.getMessage() for r in caplog.records] == ["shown"]


def test_library_takes_the_log_callback() -> None:
    """The 1.1.0 library exports hwr_set_log_callback, and the binding's declaration of it works:
    an unknown level is refused, the binding's callback is accepted (and stays installed)."""
    lib = _lib.get_lib()
    assert hasattr(lib, "hwr_set_log_callback"), f"{_lib.library_path()} does not export hwr_set_log_callback"
    assert lib.hwr_set_log_callback(_lib._log_callback, 99, None) == _lib.HWR_ERR_INVALID_ARGUMENT
    assert lib.hwr_set_log_callback(_lib._log_callback, _lib.HWR_LOG_DEBUG, None) == _lib.HWR_OK


def test_library_diagnostics_reach_logging(caplog: pytest.LogCaptureFixture, model_path: str) -> None:
    """End to end: the library's own diagnostics (it reports an opened engine at debug level)
    arrive on logger "hwr" through the callback the binding installed when it loaded the library."""
    with caplog.at_level(logging.DEBUG, logger="hwr"):
        with hwr.Engine(model_path, threads=1):
            pass
    records = [r for r in caplog.records if r.name == "hwr"]
    assert records, "no diagnostic of the library reached logging.getLogger('hwr')"
    assert all(r.getMessage() for r in records)
