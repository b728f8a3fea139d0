"""Turning the Python image types hwr accepts into ``struct hwr_image``.

Accepted (see :data:`hwr.ImageLike`):

* ``str`` or ``os.PathLike``: the path of a PNG, JPEG or PGM file; its bytes are read here and
  passed as ``HWR_IMAGE_ENCODED`` (a ``str`` is always a path, never image data);
* ``bytes``, ``bytearray``, ``memoryview``: the contents of a PNG, JPEG or PGM file;
* a NumPy ``uint8`` array (or anything with ``__array_interface__``): H x W grey, H x W x 1 grey,
  H x W x 3 RGB (an opaque alpha channel is added), H x W x 4 RGBA. Views with a row stride
  are passed without copying; other layouts (negative or non-unit column strides) are copied with
  ``np.ascontiguousarray``;
* a PIL image: 'L' is passed as grey, '1' is converted to 'L', 'RGB', 'RGBA', 'LA', 'P' and the
  other colour modes are converted to RGBA; 'I', 'I;16' and 'F' are refused (convert them to 'L').

NumPy and PIL are imported only when such an object is given, so hwr works without them.
"""

from __future__ import annotations

import ctypes
import os
import sys
from dataclasses import dataclass
from typing import Any, Union

from . import _lib
from .errors import HwrIOError, ImageTooLargeError, InvalidArgumentError

__all__ = ["ImageLike", "Prepared", "prepare", "fill"]

#: Anything ``recognize_char`` accepts: a path, encoded bytes, a NumPy array or a PIL image.
ImageLike = Union[str, "os.PathLike[str]", "os.PathLike[bytes]", bytes, bytearray, memoryview, Any]


@dataclass
class Prepared:
    """An image ready to be described by an ``hwr_image``; ``keep`` owns the memory at ``data``."""

    format: int
    data: int  # address, 0 for none
    size: int
    width: int = 0
    height: int = 0
    stride: int = 0
    keep: Any = None


def _from_bytes(b: bytes) -> Prepared:
    # c_char_p points at the bytes object's own buffer: no copy; `keep` holds both alive.
    ptr = ctypes.c_char_p(b)
    return Prepared(_lib.HWR_IMAGE_ENCODED, ctypes.cast(ptr, ctypes.c_void_p).value or 0, len(b),
                    keep=(b, ptr))


def _from_writable(buf: Any, nbytes: int) -> Prepared:
    arr = (ctypes.c_char * nbytes).from_buffer(buf)
    return Prepared(_lib.HWR_IMAGE_ENCODED, ctypes.addressof(arr), nbytes, keep=(buf, arr))


def read_path(path: "Union[str, os.PathLike[str], os.PathLike[bytes]]") -> bytes:
    """The bytes of an image file, read as ``hwr_recognize_file`` reads a path: any file that can be
    read, a device or pipe to its end (opening a pipe without a writer does not block), at most
    ``HWR_MAX_FILE_BYTES``. Raises :class:`InvalidArgumentError` (a NUL in the path),
    :class:`HwrIOError` (unreadable, a directory) or :class:`ImageTooLargeError`."""
    if "\0" in os.fsdecode(path):
        raise InvalidArgumentError("image path must not contain NUL characters")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as f:
            os.set_blocking(fd, True)
            data = f.read(_lib.HWR_MAX_FILE_BYTES + 1)
    except OSError as e:
        reason = e.strerror or str(e)
        raise HwrIOError(f"{os.fsdecode(path)}: cannot read file: {reason}") from e
    if len(data) > _lib.HWR_MAX_FILE_BYTES:
        raise ImageTooLargeError(f"{os.fsdecode(path)}: more than the limit of {_lib.HWR_MAX_FILE_BYTES} bytes")
    return data


def _from_path(path: "Union[str, os.PathLike[str], os.PathLike[bytes]]") -> Prepared:
    return _from_bytes(read_path(path))


def _check_dims(width: int, height: int, stride: int) -> None:
    if max(width, height, stride) > _lib.INT32_MAX:
        raise ImageTooLargeError(f"{width}x{height} image (stride {stride}) exceeds the C API's int32 range")


def uint8_array(obj: Any) -> Any:
    """``obj`` as a NumPy uint8 array, a single channel squeezed to H x W. Raises
    :class:`InvalidArgumentError` for any other dtype."""
    import numpy as np  # noqa: PLC0415 - optional dependency, imported on use

    a = np.asarray(obj)
    if a.dtype != np.uint8:
        raise InvalidArgumentError(f"image array must have dtype uint8, not {a.dtype}")
    return a[:, :, 0] if a.ndim == 3 and a.shape[2] == 1 else a


def _from_array(obj: Any) -> Prepared:
    import numpy as np  # noqa: PLC0415 - optional dependency, imported on use

    a = uint8_array(obj)
    if a.ndim == 2:
        height, width = a.shape
        bpp, fmt = 1, _lib.HWR_IMAGE_GRAY8
        if not (a.strides[1] == 1 and a.strides[0] >= width) or height <= 1:
            a = np.ascontiguousarray(a)
    elif a.ndim == 3 and a.shape[2] in (3, 4):
        height, width, channels = a.shape
        bpp, fmt = 4, _lib.HWR_IMAGE_RGBA8
        if channels == 3:
            rgba = np.empty((height, width, 4), dtype=np.uint8)
            rgba[:, :, :3] = a
            rgba[:, :, 3] = 255
            a = rgba
        elif not (a.strides[2] == 1 and a.strides[1] == 4 and a.strides[0] >= 4 * width) or height <= 1:
            a = np.ascontiguousarray(a)
    else:
        raise InvalidArgumentError(
            f"image array must be H x W (grey) or H x W x C with C in 1, 3, 4; got shape {a.shape}")
    stride = int(a.strides[0]) if height > 1 else width * bpp
    _check_dims(width, height, stride)
    size = stride * (height - 1) + width * bpp if height > 0 and width > 0 else 0
    return Prepared(fmt, int(a.ctypes.data), size, int(width), int(height), stride, keep=a)


_PIL_REFUSED = ("I", "F")


def grey_or_rgba(img: Any) -> Any:
    """A PIL image as 8-bit grey ("L") or RGBA, the two layouts the library reads: bilevel images
    become grey, every other mode RGBA. Raises :class:`InvalidArgumentError` for 32-bit integer and
    float images ("I", "F") and modes PIL cannot convert."""
    mode = img.mode
    if mode == "1":
        return img.convert("L")
    if mode.startswith(_PIL_REFUSED):
        raise InvalidArgumentError(
            f"PIL images of mode {mode!r} are not supported: convert them to 'L' (8-bit grey) first")
    if mode in ("L", "RGBA"):
        return img
    try:
        return img.convert("RGBA")
    except ValueError:
        try:
            return img.convert("RGB").convert("RGBA")
        except ValueError as e:
            raise InvalidArgumentError(f"cannot convert a PIL image of mode {mode!r} to RGBA: {e}") from e


def _from_pil(img: Any) -> Prepared:
    img = grey_or_rgba(img)
    mode = img.mode
    width, height = img.size
    data = img.tobytes()
    bpp = 1 if mode == "L" else 4
    _check_dims(width, height, width * bpp)
    p = _from_bytes(data)
    p.format = _lib.HWR_IMAGE_GRAY8 if mode == "L" else _lib.HWR_IMAGE_RGBA8
    p.width, p.height, p.stride = width, height, width * bpp
    return p


def _is_pil(obj: Any) -> bool:
    pil = sys.modules.get("PIL.Image")
    return pil is not None and isinstance(obj, pil.Image)


def _is_array(obj: Any) -> bool:
    np = sys.modules.get("numpy")
    if np is not None and isinstance(obj, np.ndarray):
        return True
    return hasattr(obj, "__array_interface__") or hasattr(obj, "__array_struct__")


def prepare(image: Any) -> Prepared:
    """Validates and converts one image.

    Raises:
        TypeError: not an image type hwr knows.
        InvalidArgumentError: an array of the wrong dtype or shape, or an unsupported PIL mode.
        HwrIOError: a path that cannot be read.
        ImageTooLargeError: dimensions beyond the int32 range of the C API.
    """
    if isinstance(image, bytes):
        return _from_bytes(image)
    if isinstance(image, (str, os.PathLike)):
        return _from_path(image)
    if isinstance(image, bytearray):
        return _from_writable(image, len(image))
    if isinstance(image, memoryview):
        if image.readonly or not image.c_contiguous:
            return _from_bytes(image.tobytes())
        flat = image.cast("B")
        return _from_writable(flat, flat.nbytes)
    if _is_pil(image):
        return _from_pil(image)
    if _is_array(image):
        try:
            import numpy  # noqa: F401, PLC0415
        except ImportError as e:  # pragma: no cover - only without numpy
            raise TypeError("array images need NumPy: pip install 'hwr[numpy]'") from e
        return _from_array(image)
    raise TypeError(
        "image must be a path (str or os.PathLike), encoded bytes (bytes, bytearray, memoryview), "
        f"a NumPy uint8 array or a PIL image, not {type(image).__name__}")


def fill(struct: _lib.HwrImage, p: Prepared) -> None:
    """Fills an ``hwr_image`` as the ``hwr_image_init_*`` functions of hwr.h do."""
    _lib.image_init(p.format, p.data, p.size, p.width, p.height, p.stride, into=struct)
