"""The :class:`Engine`: a loaded model that recognises character images."""

from __future__ import annotations

import ctypes
import os
import threading
from typing import Any, Iterable, List, Literal, Optional, Sequence, Tuple, Union, overload

from . import _images, _lib
from .errors import HwrError, InvalidArgumentError, error_for_status, last_error
from .types import Candidate, CharResult

__all__ = ["Engine", "BatchErrors"]

#: How ``recognize_batch`` reports failed items.
BatchErrors = Literal["raise", "return"]


class Engine:
    """A handwriting recognition engine: a loaded model plus its workspaces.

    One engine may be shared by any number of threads: the recognition calls release the GIL and
    run concurrently in the library. Use it as a context manager, or call :meth:`close`::

        with hwr.Engine() as engine:
            print(engine.recognize_char("digit.png").text)

    Args:
        model: the model file (``.hwrm``), or ``None`` for the library's default: the file named by
            the ``HWR_MODEL`` environment variable, else the installed model, else
            ``models/hwr-char.hwrm`` of a source checkout.
        threads: threads for the matrix products (``None`` or 0: one per core). Applies to the
            whole process.

    Raises:
        HwrIOError: the model file cannot be read.
        ModelFormatError: the file is not a valid hwr model.
        InvalidArgumentError: a bad option.
        hwr.LibraryLoadError: ``libhwr.so`` not found, or of another ABI version.
    """

    def __init__(self, model: Optional[Union[str, "os.PathLike[str]", "os.PathLike[bytes]"]] = None,
                 threads: Optional[int] = None) -> None:
        self._handle: Optional[int] = None  # set first: __del__ runs even if __init__ fails
        self._cond = threading.Condition(threading.Lock())
        self._active = 0
        if threads is not None and (not isinstance(threads, int) or isinstance(threads, bool)):
            raise TypeError(f"threads must be an int or None, not {type(threads).__name__}")
        if threads is not None and not 0 <= threads <= _lib.INT32_MAX:
            raise InvalidArgumentError(f"threads must be >= 0 (0 for one per core), not {threads}")
        lib = _lib.get_lib()
        self._lib = lib
        opts = _lib.HwrEngineOptions()
        if _lib.structs_match:
            lib.hwr_engine_options_init(ctypes.byref(opts))
        opts.struct_size = ctypes.sizeof(_lib.HwrEngineOptions)
        path_bytes = None if model is None else os.fsencode(model)
        opts.model_path = path_bytes
        opts.threads = 0 if threads is None else threads
        handle = ctypes.c_void_p()
        status = lib.hwr_engine_open(ctypes.byref(opts), ctypes.byref(handle))
        if status != _lib.HWR_OK:
            raise last_error(status)
        if not handle.value:
            raise error_for_status(_lib.HWR_ERR_INTERNAL, "hwr_engine_open returned HWR_OK but no engine")
        self._handle = handle.value
        # Engine-owned strings live until close: copy them now so they stay readable after it.
        self._model_name = _lib.decode(lib.hwr_engine_model_name(handle))
        self._model_version = _lib.decode(lib.hwr_engine_model_version(handle))
        self._model_path = _lib.decode(lib.hwr_engine_model_path(handle))
        self._charset = _lib.decode(lib.hwr_engine_charset(handle))

    # ---- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Frees the engine. Waits for recognitions running in other threads to finish; calls
        made after ``close`` raise :class:`InvalidArgumentError`. Closing twice is harmless."""
        cond = getattr(self, "_cond", None)
        if cond is None:
            return
        with cond:
            handle, self._handle = self._handle, None
            while self._active:
                cond.wait()
        if handle:
            self._lib.hwr_engine_close(handle)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._handle is None

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser (e.g. at interpreter exit)
            pass

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return (f"<hwr.Engine {state} model={self._model_name!r} version={self._model_version!r} "
                f"path={self._model_path!r}>")

    def _acquire(self) -> int:
        with self._cond:
            if self._handle is None:
                raise InvalidArgumentError("the engine is closed")
            self._active += 1
            return self._handle

    def _release(self) -> None:
        with self._cond:
            self._active -= 1
            if not self._active:
                self._cond.notify_all()

    # ---- model information -----------------------------------------------------------------

    @property
    def model_name(self) -> str:
        """Name of the loaded model, for example ``"hwr-char"``."""
        return self._model_name

    @property
    def model_version(self) -> str:
        """Version of the loaded model."""
        return self._model_version

    @property
    def model_path(self) -> str:
        """Path of the loaded model file."""
        return self._model_path

    @property
    def charset(self) -> str:
        """The characters the model can output, in class order (for example ``"0123...XYZ"``)."""
        return self._charset

    # ---- recognition -----------------------------------------------------------------------

    def _options(self, top_k: int, charset: Optional[str]) -> Tuple[_lib.HwrRecognizeOptions, Any]:
        if not isinstance(top_k, int) or isinstance(top_k, bool):
            raise TypeError(f"top_k must be an int, not {type(top_k).__name__}")
        if not -(2**31) <= top_k <= _lib.INT32_MAX:
            raise InvalidArgumentError(f"top_k must be between 1 and the charset size, not {top_k}")
        if charset is not None and not isinstance(charset, str):
            raise TypeError(f"charset must be a str or None, not {type(charset).__name__}")
        if charset is not None and "\0" in charset:
            raise InvalidArgumentError("charset must not contain NUL characters")
        opts = _lib.HwrRecognizeOptions()
        if _lib.structs_match:
            self._lib.hwr_recognize_options_init(ctypes.byref(opts))
        opts.struct_size = ctypes.sizeof(_lib.HwrRecognizeOptions)
        opts.mode = _lib.HWR_MODE_CHAR
        opts.top_k = top_k
        encoded = None if charset is None else charset.encode("utf-8")
        opts.charset = encoded
        return opts, encoded

    def _item(self, result: ctypes.c_void_p, i: int) -> Union[CharResult, HwrError]:
        lib = self._lib
        status = lib.hwr_result_status(result, i)
        if status != _lib.HWR_OK:
            message = _lib.decode(lib.hwr_result_error(result, i)) or _lib.decode(lib.hwr_status_string(status))
            return error_for_status(status, message)
        count = lib.hwr_result_candidate_count(result, i)
        candidates = tuple(
            Candidate(_lib.decode(lib.hwr_result_candidate_text(result, i, k)),
                      float(lib.hwr_result_candidate_score(result, i, k)))
            for k in range(count))
        return CharResult(_lib.decode(lib.hwr_result_text(result, i)),
                          float(lib.hwr_result_confidence(result, i)), candidates)

    def recognize_char(self, image: _images.ImageLike, top_k: int = 5,
                       charset: Optional[str] = None) -> CharResult:
        """Recognises the single character written on ``image``.

        Args:
            image: a path, encoded PNG/JPEG/PGM bytes, a NumPy uint8 array or a PIL image
                (see :mod:`hwr._images` for the exact rules).
            top_k: number of candidates to return, 1 to the charset size.
            charset: only these characters may be returned (for example ``"0123456789"``), or
                ``None`` for all. Lower-case letters stand for their upper-case class.
                Probabilities are renormalised over the allowed characters.

        Returns:
            The best reading and the ``top_k`` candidates.

        Raises:
            ImageDecodeError, ImageEmptyError, ImageTooLargeError: a bad image.
            HwrIOError: an unreadable path.
            InvalidArgumentError: a bad option or array; also when the engine is closed.
            TypeError: ``image`` is not an image type hwr accepts.
        """
        opts, keep_charset = self._options(top_k, charset)
        prepared = _images.prepare(image)
        img = _lib.HwrImage()
        _images.fill(img, prepared)
        handle = self._acquire()
        result = ctypes.c_void_p()
        try:
            status = self._lib.hwr_recognize(handle, ctypes.byref(img), ctypes.byref(opts), ctypes.byref(result))
            if status != _lib.HWR_OK:
                raise last_error(status)
            try:
                if self._lib.hwr_result_count(result) != 1:
                    raise error_for_status(_lib.HWR_ERR_INTERNAL, "hwr_recognize returned a result without one item")
                item = self._item(result, 0)
            finally:
                self._lib.hwr_result_free(result)
        finally:
            self._release()
        del keep_charset, prepared
        if isinstance(item, HwrError):
            raise item
        return item

    @overload
    def recognize_batch(self, images: Iterable[_images.ImageLike], top_k: int = ...,
                        charset: Optional[str] = ..., errors: Literal["raise"] = ...) -> List[CharResult]: ...

    @overload
    def recognize_batch(self, images: Iterable[_images.ImageLike], top_k: int = ...,
                        charset: Optional[str] = ..., *,
                        errors: Literal["return"]) -> List[Union[CharResult, HwrError]]: ...

    def recognize_batch(self, images: Iterable[_images.ImageLike], top_k: int = 5,
                        charset: Optional[str] = None,
                        errors: BatchErrors = "raise") -> Sequence[Union[CharResult, HwrError]]:
        """Recognises many character images in one batched pass (faster than one by one).

        A bad image does not stop the batch: every other image is still recognised. What happens
        to the failed ones depends on ``errors``:

        * ``"raise"`` (default): after the whole batch was processed, the error of the *first*
          failed item is raised (an :class:`HwrError` subclass whose ``index`` is the item's
          position). Its ``results`` attribute holds the complete list, as ``"return"`` gives it.
        * ``"return"``: the list holds, at a failed item's position, the :class:`HwrError`
          subclass instance describing it (not raised; ``index`` set), and a
          :class:`CharResult` everywhere else. Test with ``isinstance(item, hwr.HwrError)``.

        Item errors are image errors (decode, empty, too large, invalid raw layout) and unreadable
        paths (:class:`HwrIOError`). Arguments that are wrong for the whole call (``top_k``,
        ``charset``, ``errors``, an item that is not an image type at all (:class:`TypeError`), an
        array of the wrong dtype or shape (:class:`InvalidArgumentError`)) raise immediately,
        before anything is recognised.

        Args:
            images: the images (any type :meth:`recognize_char` accepts). An empty iterable gives
                an empty list.
            top_k, charset: as for :meth:`recognize_char`.
            errors: ``"raise"`` or ``"return"``.

        Returns:
            One entry per image, in order.
        """
        if errors not in ("raise", "return"):
            raise InvalidArgumentError(f"errors must be 'raise' or 'return', not {errors!r}")
        opts, keep_charset = self._options(top_k, charset)
        items = list(images)
        out: List[Union[CharResult, HwrError, None]] = [None] * len(items)
        prepared: List[_images.Prepared] = []
        positions: List[int] = []
        for i, image in enumerate(items):
            try:
                prepared.append(_images.prepare(image))
                positions.append(i)
            except (InvalidArgumentError, TypeError):
                raise
            except HwrError as e:  # unreadable path: an item error like a bad image
                e.index = i
                out[i] = e
        if prepared:
            array = (_lib.HwrImage * len(prepared))()
            for struct, p in zip(array, prepared):
                _images.fill(struct, p)
            handle = self._acquire()
            result = ctypes.c_void_p()
            try:
                status = self._lib.hwr_recognize_batch(handle, array, len(prepared), ctypes.byref(opts),
                                                       ctypes.byref(result))
                if status != _lib.HWR_OK:
                    raise last_error(status)
                try:
                    if self._lib.hwr_result_count(result) != len(prepared):
                        raise error_for_status(
                            _lib.HWR_ERR_INTERNAL,
                            f"hwr_recognize_batch returned {self._lib.hwr_result_count(result)} items "
                            f"for {len(prepared)} images")
                    for j, i in enumerate(positions):
                        item = self._item(result, j)
                        if isinstance(item, HwrError):
                            item.index = i
                        out[i] = item
                finally:
                    self._lib.hwr_result_free(result)
            finally:
                self._release()
        del keep_charset, prepared
        results: List[Union[CharResult, HwrError]] = [r for r in out if r is not None]
        if errors == "raise":
            for r in results:
                if isinstance(r, HwrError):
                    r.results = results
                    raise r
        return results
