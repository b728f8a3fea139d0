"""Exceptions: one class per ``hwr_status`` code of ``hwr.h``, plus the worker client's own.

Every error the library reports is an :class:`HwrError` carrying the numeric ``status`` and the
library's ``message`` (from ``hwr_last_error()`` or the failed batch item). Catch
:class:`HwrError` for all of them, or a subclass for one kind.

Errors detected on the Python side use the same classes: a NumPy array of the wrong dtype or
shape, a bad ``top_k`` or an unsupported PIL mode raise :class:`InvalidArgumentError` (which is
also a :class:`ValueError`); an object that is not an image at all raises :class:`TypeError`
(a programming error, like any Python API given the wrong type); an unreadable image path raises
:class:`HwrIOError`.

:class:`hwr.Client` (a client of the ``hwr worker`` ZeroMQ service) raises the same classes for
the worker's status codes that have a C API equivalent (``BAD_REQUEST`` ->
:class:`InvalidArgumentError`, ``DECODE_FAILURE`` -> :class:`ImageDecodeError` ...), and four
classes of its own: :class:`OverloadedError`, :class:`ShuttingDownError`,
:class:`WrongVersionError` and :class:`TimeoutError` (no answer in time). Errors raised by the client
also carry ``wire_status`` (the reply's ``hwr.v1.StatusCode``, ``None`` for a timeout) and
``request_id``.
"""

from __future__ import annotations

import builtins
from typing import Any, Dict, List, Optional, Type

from . import _lib

__all__ = [
    "HwrError",
    "InvalidArgumentError",
    "HwrIOError",
    "ModelFormatError",
    "ImageDecodeError",
    "ImageTooLargeError",
    "ImageEmptyError",
    "UnsupportedError",
    "OutOfMemoryError",
    "InternalError",
    "DeadlineExceededError",
    "OverloadedError",
    "ShuttingDownError",
    "WrongVersionError",
    "TimeoutError",
    "error_for_status",
]


class HwrError(Exception):
    """An error reported by libhwr (or detected by the binding before calling it).

    Attributes:
        status: the ``hwr_status`` code (``HWR_ERR_*``), never 0.
        message: what went wrong, as the library described it.
        index: for an error of a batch item, the item's position in the batch; else ``None``.
        results: when ``recognize_batch(errors="raise")`` raised this error, the complete list of
            the batch's outcomes (``CharResult`` or ``HwrError`` per image); else ``None``.
    """

    #: The status code of this class (overridden by each subclass).
    STATUS: int = _lib.HWR_ERR_INTERNAL
    #: Errors from :class:`hwr.Client` only: the ``hwr.v1.StatusCode`` of the worker's reply (of the
    #: whole request, or of the batch item), ``None`` when no reply was received.
    wire_status: Optional[int] = None
    #: Errors from :class:`hwr.Client` only: the ``request_id`` of the request.
    request_id: Optional[str] = None

    def __init__(self, message: str, status: Optional[int] = None, index: Optional[int] = None) -> None:
        self.status: int = self.STATUS if status is None else status
        self.message: str = message
        self.index: Optional[int] = index
        self.results: Optional[List[Any]] = None
        super().__init__(message)

    def __str__(self) -> str:
        where = f"item {self.index}: " if self.index is not None else ""
        return f"{where}{self.message}" if self.message else f"{where}status {self.status}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, message={self.message!r}, index={self.index!r})"

    def __eq__(self, other: object) -> bool:
        return (type(self) is type(other) and isinstance(other, HwrError)
                and (self.status, self.message, self.index) == (other.status, other.message, other.index))

    def __hash__(self) -> int:
        return hash((type(self), self.status, self.message, self.index))


class InvalidArgumentError(HwrError, ValueError):
    """``HWR_ERR_INVALID_ARGUMENT``: a bad value (size, stride, option such as top_k, dtype ...)."""

    STATUS = _lib.HWR_ERR_INVALID_ARGUMENT


class HwrIOError(HwrError):
    """``HWR_ERR_IO``: a file (model or image) could not be read."""

    STATUS = _lib.HWR_ERR_IO


class ModelFormatError(HwrError):
    """``HWR_ERR_MODEL_FORMAT``: not an hwr model, or truncated, corrupted, unsupported."""

    STATUS = _lib.HWR_ERR_MODEL_FORMAT


class ImageDecodeError(HwrError):
    """``HWR_ERR_IMAGE_DECODE``: the bytes are not a valid PNG, JPEG or PGM."""

    STATUS = _lib.HWR_ERR_IMAGE_DECODE


class ImageTooLargeError(HwrError):
    """``HWR_ERR_IMAGE_TOO_LARGE``: more pixels than ``HWR_MAX_IMAGE_PIXELS`` (or the engine's
    ``max_pixels``), or a side above ``HWR_MAX_IMAGE_SIDE``."""

    STATUS = _lib.HWR_ERR_IMAGE_TOO_LARGE


class ImageEmptyError(HwrError):
    """``HWR_ERR_IMAGE_EMPTY``: zero-sized image, or nothing written on it."""

    STATUS = _lib.HWR_ERR_IMAGE_EMPTY


class UnsupportedError(HwrError):
    """``HWR_ERR_UNSUPPORTED``: a valid request this build or model cannot serve."""

    STATUS = _lib.HWR_ERR_UNSUPPORTED


class OutOfMemoryError(HwrError, MemoryError):
    """``HWR_ERR_OUT_OF_MEMORY``: an allocation failed."""

    STATUS = _lib.HWR_ERR_OUT_OF_MEMORY


class InternalError(HwrError):
    """``HWR_ERR_INTERNAL`` (or an unknown status): a bug in libhwr; please report the message."""

    STATUS = _lib.HWR_ERR_INTERNAL


class DeadlineExceededError(HwrError):
    """``HWR_ERR_DEADLINE_EXCEEDED`` (wire status ``DEADLINE_EXCEEDED``): the call's
    ``deadline_ms`` passed before the image was read."""

    STATUS = _lib.HWR_ERR_DEADLINE_EXCEEDED


# ---- worker (hwr.Client) errors without a C API equivalent ----------------------------------------
# Their STATUS is 100 + the wire StatusCode (the C API's codes are below 100), and 110 for the
# client-side timeout.


class OverloadedError(HwrError):
    """The worker's queue was full (wire status ``OVERLOADED``) on every attempt: retry later."""

    STATUS = 105


class ShuttingDownError(HwrError):
    """The worker is shutting down (wire status ``SHUTTING_DOWN``) and took no new request."""

    STATUS = 108


class WrongVersionError(HwrError):
    """The worker speaks another protocol version (wire status ``WRONG_VERSION``)."""

    STATUS = 107


class TimeoutError(HwrError, builtins.TimeoutError):  # noqa: A001 - hwr.TimeoutError, on purpose
    """No reply from the worker within the timeout, on every attempt (also a built-in
    ``TimeoutError``). The request may still have been processed by the worker."""

    STATUS = 110


_BY_STATUS: Dict[int, Type[HwrError]] = {
    cls.STATUS: cls
    for cls in (InvalidArgumentError, HwrIOError, ModelFormatError, ImageDecodeError,
                ImageTooLargeError, ImageEmptyError, UnsupportedError, OutOfMemoryError,
                InternalError, DeadlineExceededError)
}


def error_for_status(status: int, message: str, index: Optional[int] = None) -> HwrError:
    """The exception instance for a non-zero status (``InternalError`` for unknown codes)."""
    cls = _BY_STATUS.get(status, InternalError)
    return cls(message, status=status, index=index)


def last_error(status: int) -> HwrError:
    """The exception for a failed call, with ``hwr_last_error()`` of this thread as message.

    Must be called on the thread that made the failing call, right after it.
    """
    lib = _lib.get_lib()
    message = _lib.decode(lib.hwr_last_error())
    if not message:
        message = _lib.decode(lib.hwr_status_string(status))
    return error_for_status(status, message)
