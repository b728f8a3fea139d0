"""Loading ``libhwr.so`` with ctypes and declaring the C API of ``hwr.h``.

The library is loaded lazily, on first use (``hwr.Engine()``, ``hwr.version()`` ...), so that
``import hwr`` works on a machine without the library. Search order:

1. the environment variable ``HWR_LIBRARY``: full path of ``libhwr.so`` (if set, nothing else is
   tried, so a wrong value is reported instead of silently using another library);
2. the library bundled in this package (``hwr/lib/libhwr.so``, in the wheels built by
   ``scripts/build-wheel.sh``, with the models in ``hwr/share/hwr/models``, where the library finds
   them by itself);
3. the system loader: ``ctypes.util.find_library("hwr")``, then plain ``libhwr.so`` (which the
   dynamic loader looks up in ``LD_LIBRARY_PATH``, the ld.so cache and the default directories),
   then ``/usr/local/lib/libhwr.so`` (the install prefix, in case ``ldconfig`` was not run);
4. a source checkout: ``.build/release/libhwr.so`` in the package directory or any parent.

Every function is declared with its ``argtypes`` and ``restype``. The library is loaded with
``ctypes.CDLL``, which releases the GIL for the duration of each call. When the library has
``hwr_set_log_callback`` (1.1.0), its diagnostics are routed to the :mod:`logging` logger ``"hwr"``
as soon as it is loaded.

This module mirrors ``hwr.h``: its constants, struct layouts, ``*_init`` defaults and function
declarations are compared with the header by ``tests/test_abi_mirror.py`` (a compiled C probe).
The binding decides nothing itself: limits, defaults and validation are the library's.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import logging
import os
import threading
from pathlib import Path
from typing import List, Optional

__all__ = [
    "ABI_VERSION",
    "HWR_VERSION_STRING",
    "HwrImage",
    "HwrEngineOptions",
    "HwrRecognizeOptions",
    "LibraryLoadError",
    "get_lib",
    "library_path",
]

# ---- constants of hwr.h (every #define HWR_*, same names and values) ----------------------------

# Versions: the header this binding is written against. HWR_VERSION_STRING is also the version of
# the Python package (hwr.__version__, and pyproject.toml reads it from here).
HWR_VERSION_MAJOR = 1
HWR_VERSION_MINOR = 3
HWR_VERSION_PATCH = 0
HWR_VERSION_STRING = "1.3.0"
HWR_VERSION_NUMBER = HWR_VERSION_MAJOR * 1000000 + HWR_VERSION_MINOR * 1000 + HWR_VERSION_PATCH
HWR_ABI_VERSION = 1

#: The ``HWR_ABI_VERSION`` this binding is written against.
ABI_VERSION = HWR_ABI_VERSION

# Status codes.
HWR_OK = 0
HWR_ERR_INVALID_ARGUMENT = 1
HWR_ERR_IO = 2
HWR_ERR_MODEL_FORMAT = 3
HWR_ERR_IMAGE_DECODE = 4
HWR_ERR_IMAGE_TOO_LARGE = 5
HWR_ERR_IMAGE_EMPTY = 6
HWR_ERR_UNSUPPORTED = 7
HWR_ERR_OUT_OF_MEMORY = 8
HWR_ERR_INTERNAL = 9
HWR_ERR_DEADLINE_EXCEEDED = 10

# Image limits and formats.
HWR_MAX_IMAGE_PIXELS = 4096 * 4096
HWR_MAX_IMAGE_SIDE = 32768
HWR_MIN_IMAGE_SIDE = 8
HWR_MAX_FILE_BYTES = 256 * 1024 * 1024
HWR_IMAGE_ENCODED = 0
HWR_IMAGE_GRAY8 = 1
HWR_IMAGE_RGBA8 = 2

# Recognition modes and request limits.
HWR_MODE_CHAR = 0
HWR_MODE_LINE = 1
HWR_MODE_AUTO = 2
HWR_MODE_PAGE = 3  # 1.1.0
HWR_MAX_BATCH = 4096
HWR_MAX_LEXICON_WORDS = 1000000
HWR_LEXICON_LINE = 0  # 1.1.0
HWR_LEXICON_WORDS = 1  # 1.1.0

# Model selectors of hwr_engine_model_precision (1.3.0).
HWR_MODEL_CHAR = 0
HWR_MODEL_LINE = 1
HWR_MODEL_TEXT = 2

# Severities of diagnostic messages (hwr_set_log_callback).
HWR_LOG_DEBUG = 0
HWR_LOG_INFO = 1
HWR_LOG_WARNING = 2
HWR_LOG_ERROR = 3

# ---- C type ranges (what ctypes can pass, not hwr's rules) ---------------------------------------

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class LibraryLoadError(OSError):
    """``libhwr.so`` could not be found or loaded, or it has an incompatible ABI version."""


class HwrImage(ctypes.Structure):
    """``struct hwr_image``."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("format", ctypes.c_int32),
        ("data", ctypes.c_void_p),
        ("size", ctypes.c_size_t),
        ("width", ctypes.c_int32),
        ("height", ctypes.c_int32),
        ("stride", ctypes.c_int32),
    ]


class HwrEngineOptions(ctypes.Structure):
    """``struct hwr_engine_options``."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("model_path", ctypes.c_char_p),
        ("threads", ctypes.c_int32),
        ("line_model_path", ctypes.c_char_p),
        ("max_pixels", ctypes.c_int64),  # 1.1.0
        ("text_model_path", ctypes.c_char_p),  # 1.2.0
    ]


class HwrRecognizeOptions(ctypes.Structure):
    """``struct hwr_recognize_options``."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("mode", ctypes.c_int32),
        ("top_k", ctypes.c_int32),
        ("charset", ctypes.c_char_p),
        ("beam_width", ctypes.c_int32),
        ("lexicon", ctypes.POINTER(ctypes.c_char_p)),
        ("lexicon_count", ctypes.c_size_t),
        ("pattern", ctypes.c_char_p),
        ("alternatives", ctypes.c_int32),
        ("reject_threshold", ctypes.c_float),
        ("lexicon_mode", ctypes.c_int32),
        ("deadline_ms", ctypes.c_int32),  # appended after lexicon_mode
    ]


# The *_init functions of hwr.h are static inline (not exported): these are their equivalents.
# struct_size is the size of the structs above, so the library reads exactly the fields we know.

def image_init(fmt: int, data: int, size: int, width: int = 0, height: int = 0, stride: int = 0,
               into: Optional[HwrImage] = None) -> HwrImage:
    """``hwr_image_init_encoded`` / ``_gray8`` / ``_rgba8``: a zeroed image with these fields."""
    image = HwrImage() if into is None else into
    ctypes.memset(ctypes.byref(image), 0, ctypes.sizeof(HwrImage))
    image.struct_size = ctypes.sizeof(HwrImage)
    image.format = fmt
    image.data = data or None
    image.size = size
    image.width, image.height, image.stride = width, height, stride
    return image


def engine_options_init() -> HwrEngineOptions:
    """``hwr_engine_options_init``: every field NULL / 0."""
    options = HwrEngineOptions()
    options.struct_size = ctypes.sizeof(HwrEngineOptions)
    return options


def recognize_options_init() -> HwrRecognizeOptions:
    """``hwr_recognize_options_init``: char mode, top_k 5, beam width 10, 5 alternatives.

    The only place the binding states these defaults: ``Engine`` and ``Client`` take them from
    here when an option is not given."""
    options = HwrRecognizeOptions()
    options.struct_size = ctypes.sizeof(HwrRecognizeOptions)
    options.mode = HWR_MODE_CHAR
    options.top_k = 5
    options.beam_width = 10
    options.alternatives = 5
    return options


#: ``hwr_log_callback``: void (*)(int32_t level, const char *message, void *user).
LOG_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_int32, ctypes.c_char_p, ctypes.c_void_p)

_c_engine_p = ctypes.c_void_p  # hwr_engine *
_c_result_p = ctypes.c_void_p  # hwr_result *
_size = ctypes.c_size_t
_i32 = ctypes.c_int32
_str = ctypes.c_char_p
_i32_p = ctypes.POINTER(ctypes.c_int32)  # int32_t * (box outputs)

# name: (restype, argtypes) for every function of hwr.h.
_SIGNATURES = {
    "hwr_version": (_str, []),
    "hwr_version_number": (_i32, []),
    "hwr_abi_version": (_i32, []),
    "hwr_status_string": (_str, [_i32]),
    "hwr_last_error": (_str, []),
    "hwr_engine_open": (
        _i32, [ctypes.POINTER(HwrEngineOptions), ctypes.POINTER(_c_engine_p)]),
    "hwr_engine_close": (None, [_c_engine_p]),
    "hwr_engine_model_name": (_str, [_c_engine_p]),
    "hwr_engine_model_version": (_str, [_c_engine_p]),
    "hwr_engine_model_path": (_str, [_c_engine_p]),
    "hwr_engine_line_model_path": (_str, [_c_engine_p]),
    "hwr_engine_text_model_path": (_str, [_c_engine_p]),
    "hwr_engine_charset": (_str, [_c_engine_p]),
    "hwr_engine_model_precision": (_str, [_c_engine_p, _i32]),
    "hwr_recognize": (
        _i32, [_c_engine_p, ctypes.POINTER(HwrImage), ctypes.POINTER(HwrRecognizeOptions),
               ctypes.POINTER(_c_result_p)]),
    "hwr_recognize_batch": (
        _i32, [_c_engine_p, ctypes.POINTER(HwrImage), _size, ctypes.POINTER(HwrRecognizeOptions),
               ctypes.POINTER(_c_result_p)]),
    "hwr_recognize_file": (
        _i32, [_c_engine_p, _str, ctypes.POINTER(HwrRecognizeOptions), ctypes.POINTER(_c_result_p)]),
    "hwr_recognize_sequence": (
        _i32, [_c_engine_p, ctypes.POINTER(HwrImage), _size, ctypes.POINTER(HwrRecognizeOptions),
               ctypes.POINTER(_c_result_p)]),
    "hwr_result_count": (_size, [_c_result_p]),
    "hwr_result_status": (_i32, [_c_result_p, _size]),
    "hwr_result_error": (_str, [_c_result_p, _size]),
    "hwr_result_text": (_str, [_c_result_p, _size]),
    "hwr_result_confidence": (ctypes.c_float, [_c_result_p, _size]),
    "hwr_result_candidate_count": (_size, [_c_result_p, _size]),
    "hwr_result_candidate_text": (_str, [_c_result_p, _size, _size]),
    "hwr_result_candidate_score": (ctypes.c_float, [_c_result_p, _size, _size]),
    "hwr_result_rejected": (_i32, [_c_result_p, _size]),
    "hwr_result_char_count": (_size, [_c_result_p, _size]),
    "hwr_result_char_text": (_str, [_c_result_p, _size, _size]),
    "hwr_result_char_score": (ctypes.c_float, [_c_result_p, _size, _size]),
    # Layout of items read as a page (1.1.0): lines, their words, and boxes.
    "hwr_result_line_count": (_size, [_c_result_p, _size]),
    "hwr_result_line_text": (_str, [_c_result_p, _size, _size]),
    "hwr_result_line_confidence": (ctypes.c_float, [_c_result_p, _size, _size]),
    "hwr_result_line_box": (_i32, [_c_result_p, _size, _size, _i32_p, _i32_p, _i32_p, _i32_p]),
    "hwr_result_word_count": (_size, [_c_result_p, _size, _size]),
    "hwr_result_word_text": (_str, [_c_result_p, _size, _size, _size]),
    "hwr_result_word_confidence": (ctypes.c_float, [_c_result_p, _size, _size, _size]),
    "hwr_result_word_box": (_i32, [_c_result_p, _size, _size, _size, _i32_p, _i32_p, _i32_p, _i32_p]),
    "hwr_result_free": (None, [_c_result_p]),
    "hwr_set_log_callback": (_i32, [LOG_CALLBACK, _i32, ctypes.c_void_p]),
}

#: Functions appended after 1.0.0: a library without them still loads (the ABI is append-only),
#: and the binding does without them.
_OPTIONAL = {"hwr_set_log_callback"}

_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_lib_path: Optional[str] = None


def _candidates() -> List[str]:
    """Library locations to try after HWR_LIBRARY, in order."""
    here = Path(__file__).resolve().parent
    bundled = here / "lib" / "libhwr.so"
    names: List[str] = [str(bundled)] if bundled.is_file() else []
    found = ctypes.util.find_library("hwr")
    if found:
        names.append(found)
    names += ["libhwr.so", "/usr/local/lib/libhwr.so"]
    for directory in [here, *here.parents]:
        candidate = directory / ".build" / "release" / "libhwr.so"
        if candidate.is_file():
            names.append(str(candidate))
            break
    return names


def _declare(lib: ctypes.CDLL, path: str) -> None:
    for name, (restype, argtypes) in _SIGNATURES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            if name in _OPTIONAL:
                continue
            raise LibraryLoadError(
                f"{path} does not export {name}: not an hwr {ABI_VERSION}.x library, or one older than "
                f"the hwr.h {HWR_VERSION_STRING} this package mirrors (install matching versions)") from None
        fn.restype = restype
        fn.argtypes = argtypes


# ---- diagnostics -> logging ----------------------------------------------------------------------

#: The logger that receives the library's diagnostic messages.
logger = logging.getLogger("hwr")

_LOG_LEVELS = {
    HWR_LOG_DEBUG: logging.DEBUG,
    HWR_LOG_INFO: logging.INFO,
    HWR_LOG_WARNING: logging.WARNING,
    HWR_LOG_ERROR: logging.ERROR,
}


def _on_log(level: int, message: Optional[bytes], _user: Optional[int]) -> None:
    """The ``hwr_log_callback``: one diagnostic message to the ``"hwr"`` logger (any thread)."""
    python_level = _LOG_LEVELS.get(level, logging.ERROR)
    if logger.isEnabledFor(python_level):
        logger.log(python_level, "%s", decode(message))


# Kept for the life of the process: the library holds this pointer once it is installed.
_log_callback = LOG_CALLBACK(_on_log)


def _install_log_callback(lib: ctypes.CDLL, path: str) -> None:
    """Routes the library's diagnostics, every level, to :data:`logger` (``logging`` filters
    them), if the library has ``hwr_set_log_callback``; turns it off again at interpreter exit,
    so that no message is delivered to a finalising interpreter."""
    if not hasattr(lib, "hwr_set_log_callback"):
        return
    status = lib.hwr_set_log_callback(_log_callback, HWR_LOG_DEBUG, None)
    if status != HWR_OK:
        raise LibraryLoadError(f"{path}: hwr_set_log_callback failed with status {status}")
    atexit.register(lib.hwr_set_log_callback, LOG_CALLBACK(), HWR_LOG_DEBUG, None)


def _load() -> ctypes.CDLL:
    global _lib, _lib_path
    explicit = os.environ.get("HWR_LIBRARY")
    tried: List[str] = []
    lib: Optional[ctypes.CDLL] = None
    path = ""
    if explicit:
        try:
            lib = ctypes.CDLL(explicit)
            path = explicit
        except OSError as e:
            raise LibraryLoadError(f"cannot load HWR_LIBRARY={explicit!r}: {e}") from None
    else:
        for name in _candidates():
            try:
                lib = ctypes.CDLL(name)
                path = name
                break
            except OSError as e:
                tried.append(f"{name} ({e})")
    if lib is None:
        raise LibraryLoadError(
            "libhwr.so not found; set HWR_LIBRARY to its full path, install it in /usr/local/lib, "
            "or build it with `swift build -c release`. Tried: " + "; ".join(tried))
    try:
        abi = lib.hwr_abi_version
    except AttributeError:
        raise LibraryLoadError(f"{path} is not libhwr (no hwr_abi_version)") from None
    abi.restype = ctypes.c_int32
    abi.argtypes = []
    found = abi()
    if found != ABI_VERSION:
        raise LibraryLoadError(
            f"{path} has ABI version {found}, but this hwr Python package needs ABI version "
            f"{ABI_VERSION}: install matching versions of libhwr and the hwr package")
    _declare(lib, path)
    _install_log_callback(lib, path)
    _lib, _lib_path = lib, path
    return lib


def get_lib() -> ctypes.CDLL:
    """The loaded library (loading it on first call).

    Raises:
        LibraryLoadError: not found, not loadable, or a different ABI version.
    """
    lib = _lib
    if lib is not None:
        return lib
    with _lock:
        if _lib is not None:
            return _lib
        return _load()


def library_path() -> str:
    """The path or name ``libhwr.so`` was loaded from (loading it if needed)."""
    get_lib()
    assert _lib_path is not None
    return _lib_path


def decode(b: Optional[bytes]) -> str:
    """A C string returned by the library as ``str`` (``""`` for NULL)."""
    return "" if b is None else b.decode("utf-8", errors="replace")
