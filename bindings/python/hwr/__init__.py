"""hwr: handwriting recognition. Python binding of ``libhwr.so`` (the C API of ``hwr.h``) via ctypes.

Example::

    import hwr

    with hwr.Engine() as engine:              # the default models (or HWR_MODEL, or model=...)
        r = engine.recognize_char("digit.png", top_k=3, charset="0123456789")
        print(r.text, r.confidence, [(c.text, c.probability) for c in r.candidates])
        line = engine.recognize_line("word.png", pattern=r"\a\\d{4}")
        print(line.text, [(c.text, c.probability) for c in line.chars])
        page = engine.recognize_page("note.jpg")    # several lines: text, lines, words, boxes
        print(page.text, [(w.text, w.box) for w in page.lines[0].words])

Images can be paths, encoded PNG/JPEG/PGM bytes, NumPy uint8 arrays or PIL images. Errors are
:class:`HwrError` subclasses, one per status code of the C API. The library is found through the
``HWR_LIBRARY`` environment variable, the system loader, or a source checkout's
``.build/release/libhwr.so``; it is loaded on first use.

:class:`Client` makes the same calls to an ``hwr worker`` process over ZeroMQ (needs pyzmq and
protobuf: ``pip install 'hwr[client]'``; they are imported when a client is created)::

    with hwr.Client("tcp://127.0.0.1:5555", timeout=2.0, retries=2) as client:
        print(client.recognize_char("digit.png").text, client.model_info().model_name)
"""

from __future__ import annotations

from ._images import ImageLike
from ._lib import ABI_VERSION, HWR_VERSION_STRING, LibraryLoadError, get_lib, library_path
from ._lib import decode as _decode
from .client import Client
from .engine import BatchErrors, Engine
from .errors import (
    DeadlineExceededError,
    HwrError,
    HwrIOError,
    ImageDecodeError,
    ImageEmptyError,
    ImageTooLargeError,
    InternalError,
    InvalidArgumentError,
    ModelFormatError,
    OutOfMemoryError,
    OverloadedError,
    ShuttingDownError,
    TimeoutError as TimeoutError,  # re-exported (hwr.TimeoutError), kept out of __all__
    UnsupportedError,
    WrongVersionError,
)
from .types import Box, Candidate, CharResult, LineResult, ModelInfo, Page, PageLine, ServingStats, Word

#: Version of this Python package: the ``HWR_VERSION_STRING`` of the ``hwr.h`` it mirrors (the
#: loaded library's own version is :func:`version`).
__version__ = HWR_VERSION_STRING

__all__ = [
    "ABI_VERSION",
    "BatchErrors",
    "Box",
    "Candidate",
    "CharResult",
    "Client",
    "Engine",
    "DeadlineExceededError",
    "HwrError",
    "HwrIOError",
    "ImageDecodeError",
    "ImageEmptyError",
    "ImageLike",
    "ImageTooLargeError",
    "InternalError",
    "InvalidArgumentError",
    "LibraryLoadError",
    "LineResult",
    "ModelFormatError",
    "ModelInfo",
    "OutOfMemoryError",
    "OverloadedError",
    "Page",
    "PageLine",
    "ServingStats",
    "ShuttingDownError",
    # not "TimeoutError": `from hwr import *` would shadow the built-in (hwr.TimeoutError is a
    # subclass of it; use it as hwr.TimeoutError)
    "UnsupportedError",
    "Word",
    "WrongVersionError",
    "__version__",
    "library_path",
    "status_string",
    "version",
    "version_number",
]


def version() -> str:
    """The loaded library's version, ``"MAJOR.MINOR.PATCH"`` (``hwr_version()``)."""
    return _decode(get_lib().hwr_version())


def version_number() -> int:
    """The loaded library's version as ``MAJOR * 1000000 + MINOR * 1000 + PATCH``."""
    return int(get_lib().hwr_version_number())


def status_string(status: int) -> str:
    """The library's fixed English description of a status code (``hwr_status_string()``)."""
    return _decode(get_lib().hwr_status_string(status))
