"""Loading ``libhwr.so`` with ctypes and declaring the C API of ``hwr.h``.

The library is loaded lazily, on first use (``hwr.Engine()``, ``hwr.version()`` ...), so that
``import hwr`` works on a machine without the library. Search order:

1. the environment variable ``HWR_LIBRARY``: full path of ``libhwr.so`` (if set, nothing else is
   tried, so a wrong value is reported instead of silently using another library);
2. the system loader: ``ctypes.util.find_library("hwr")``, then plain ``libhwr.so`` (which the
   dynamic loader looks up in ``LD_LIBRARY_PATH``, the ld.so cache and the default directories),
   then ``/usr/local/lib/libhwr.so`` (the install prefix, in case ``ldconfig`` was not run);
3. a source checkout: ``.build/release/libhwr.so`` in the package directory or any parent.

Every function is declared with its ``argtypes`` and ``restype``. The library is loaded with
``ctypes.CDLL``, which releases the GIL for the duration of each call.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from pathlib import Path
from typing import List, Optional

__all__ = [
    "ABI_VERSION",
    "HwrImage",
    "HwrEngineOptions",
    "HwrRecognizeOptions",
    "LibraryLoadError",
    "get_lib",
    "library_path",
]

#: The ``HWR_ABI_VERSION`` this binding is written against.
ABI_VERSION = 1

# Status codes (hwr.h).
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

# Image formats and limits (hwr.h).
HWR_IMAGE_ENCODED = 0
HWR_IMAGE_GRAY8 = 1
HWR_IMAGE_RGBA8 = 2
HWR_MAX_IMAGE_PIXELS = 4096 * 4096
HWR_MAX_IMAGE_SIDE = 32768

# Recognition modes (hwr.h).
HWR_MODE_CHAR = 0

INT32_MAX = 2**31 - 1


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
    ]


class HwrRecognizeOptions(ctypes.Structure):
    """``struct hwr_recognize_options``."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("mode", ctypes.c_int32),
        ("top_k", ctypes.c_int32),
        ("charset", ctypes.c_char_p),
    ]


_c_engine_p = ctypes.c_void_p  # hwr_engine *
_c_result_p = ctypes.c_void_p  # hwr_result *
_size = ctypes.c_size_t
_i32 = ctypes.c_int32
_str = ctypes.c_char_p

# name: (restype, argtypes) for every function of hwr.h.
_SIGNATURES = {
    "hwr_version": (_str, []),
    "hwr_version_number": (_i32, []),
    "hwr_abi_version": (_i32, []),
    "hwr_status_string": (_str, [_i32]),
    "hwr_last_error": (_str, []),
    "hwr_image_init_encoded": (None, [ctypes.POINTER(HwrImage), ctypes.c_void_p, _size]),
    "hwr_image_init_gray8": (
        None, [ctypes.POINTER(HwrImage), ctypes.c_void_p, _size, _i32, _i32, _i32]),
    "hwr_image_init_rgba8": (
        None, [ctypes.POINTER(HwrImage), ctypes.c_void_p, _size, _i32, _i32, _i32]),
    "hwr_engine_options_init": (None, [ctypes.POINTER(HwrEngineOptions)]),
    "hwr_engine_open": (
        _i32, [ctypes.POINTER(HwrEngineOptions), ctypes.POINTER(_c_engine_p)]),
    "hwr_engine_close": (None, [_c_engine_p]),
    "hwr_engine_model_name": (_str, [_c_engine_p]),
    "hwr_engine_model_version": (_str, [_c_engine_p]),
    "hwr_engine_model_path": (_str, [_c_engine_p]),
    "hwr_engine_charset": (_str, [_c_engine_p]),
    "hwr_recognize_options_init": (None, [ctypes.POINTER(HwrRecognizeOptions)]),
    "hwr_recognize": (
        _i32, [_c_engine_p, ctypes.POINTER(HwrImage), ctypes.POINTER(HwrRecognizeOptions),
               ctypes.POINTER(_c_result_p)]),
    "hwr_recognize_batch": (
        _i32, [_c_engine_p, ctypes.POINTER(HwrImage), _size, ctypes.POINTER(HwrRecognizeOptions),
               ctypes.POINTER(_c_result_p)]),
    "hwr_recognize_file": (
        _i32, [_c_engine_p, _str, ctypes.POINTER(HwrRecognizeOptions), ctypes.POINTER(_c_result_p)]),
    "hwr_result_count": (_size, [_c_result_p]),
    "hwr_result_status": (_i32, [_c_result_p, _size]),
    "hwr_result_error": (_str, [_c_result_p, _size]),
    "hwr_result_text": (_str, [_c_result_p, _size]),
    "hwr_result_confidence": (ctypes.c_float, [_c_result_p, _size]),
    "hwr_result_candidate_count": (_size, [_c_result_p, _size]),
    "hwr_result_candidate_text": (_str, [_c_result_p, _size, _size]),
    "hwr_result_candidate_score": (ctypes.c_float, [_c_result_p, _size, _size]),
    "hwr_result_free": (None, [_c_result_p]),
}

_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_lib_path: Optional[str] = None
#: Whether the library's *_init functions write exactly the structs declared above (checked at load).
structs_match = False


def _candidates() -> List[str]:
    """Library locations to try after HWR_LIBRARY, in order."""
    names: List[str] = []
    found = ctypes.util.find_library("hwr")
    if found:
        names.append(found)
    names += ["libhwr.so", "/usr/local/lib/libhwr.so"]
    here = Path(__file__).resolve().parent
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
            raise LibraryLoadError(f"{path} does not export {name}: not an hwr {ABI_VERSION}.x library") from None
        fn.restype = restype
        fn.argtypes = argtypes


def _check_struct_sizes(lib: ctypes.CDLL) -> bool:
    """Whether the library's init functions fill structs of exactly our size.

    The init functions write into caller memory without knowing its size, so they are called
    here on an over-sized scratch buffer first. A newer library with appended fields reports a
    larger struct_size; the binding then fills structs itself with its own (smaller) struct_size,
    which the append-only ABI accepts.
    """
    scratch = (ctypes.c_uint8 * 1024)()
    ok = True
    for struct in (HwrImage, HwrEngineOptions, HwrRecognizeOptions):
        ctypes.memset(scratch, 0, ctypes.sizeof(scratch))
        ptr = ctypes.cast(scratch, ctypes.POINTER(struct))
        if struct is HwrImage:
            lib.hwr_image_init_encoded(ptr, None, 0)
        elif struct is HwrEngineOptions:
            lib.hwr_engine_options_init(ptr)
        else:
            lib.hwr_recognize_options_init(ptr)
        if ctypes.c_uint32.from_buffer(scratch).value != ctypes.sizeof(struct):
            ok = False
    return ok


def _load() -> ctypes.CDLL:
    global _lib, _lib_path, structs_match
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
    structs_match = _check_struct_sizes(lib)
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
