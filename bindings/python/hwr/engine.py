"""The :class:`Engine`: loaded models that read character images, lines of text and pages."""

from __future__ import annotations

import ctypes
import os
import threading
from typing import (Any, Callable, Dict, Iterable, List, Literal, Optional, Sequence, Tuple, Type, TypeVar,
                    Union, overload)

from . import _images, _lib
from .errors import HwrError, InvalidArgumentError, error_for_status, last_error
from .types import Box, Candidate, CharResult, LineResult, Page, PageLine, Word

__all__ = ["Engine", "BatchErrors"]

#: How ``recognize_batch``, ``recognize_lines`` and ``recognize_pages`` report failed items.
BatchErrors = Literal["raise", "return"]

PathLike = Union[str, "os.PathLike[str]", "os.PathLike[bytes]"]
R = TypeVar("R", CharResult, LineResult, Page)
T = TypeVar("T")


class _Options:
    """An ``hwr_recognize_options`` and the Python objects its pointers point into."""

    def __init__(self, mode: int) -> None:
        self.struct = _lib.recognize_options_init()
        self.struct.mode = mode
        self.keep: List[Any] = []

    def ref(self) -> Any:
        return ctypes.byref(self.struct)


def _check_int(name: str, value: Any, low: int = _lib.INT32_MIN, high: int = _lib.INT32_MAX) -> int:
    """``value`` as an int that fits its C field (int32 unless told); the library judges the rest."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise InvalidArgumentError(f"{name} is out of range: {value}")
    return value


def _option(name: str, value: Optional[int], default: int) -> int:
    """An int option, or the header's default (``hwr_recognize_options_init``) when ``None``."""
    return default if value is None else _check_int(name, value)


def _settle(results: List[Any], errors: BatchErrors) -> List[Any]:
    """A batch's results as ``errors`` asks: returned as they are (``"return"``), or (``"raise"``)
    the first failed item's error raised with the whole list as its ``results``."""
    if errors == "raise":
        for r in results:
            if isinstance(r, HwrError):
                r.results = results
                raise r
    return results


#: ``lexicon_mode`` names and their ``HWR_LEXICON_*`` numbers (the proto's LexiconMode numbers them alike).
_LEXICON_MODES = {"line": _lib.HWR_LEXICON_LINE, "words": _lib.HWR_LEXICON_WORDS}


def _lexicon_mode(value: Any) -> int:
    """The ``HWR_LEXICON_*`` number of a ``lexicon_mode`` name."""
    if value not in _LEXICON_MODES:
        raise InvalidArgumentError(f"lexicon_mode must be one of {sorted(_LEXICON_MODES)}, not {value!r}")
    return _LEXICON_MODES[value]


def _check_str(name: str, value: Any) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if "\0" in value:
        raise InvalidArgumentError(f"{name} must not contain NUL characters")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidArgumentError(f"{name} is not valid Unicode text: {e.reason}") from None



class _BatchCalls:
    """The batch calls of :class:`Engine` and :class:`hwr.Client`, declared once: each class
    runs them its own way (``_char_batch``, ``_line_batch``)."""

    def _char_batch(self, images: Iterable[_images.ImageLike], top_k: Optional[int], charset: Optional[str],
                    reject_threshold: float, deadline_ms: int, errors: BatchErrors) -> Sequence[Union[CharResult, HwrError]]:
        raise NotImplementedError

    def _line_batch(self, images: Iterable[_images.ImageLike], auto: bool, charset: Optional[str],
                    beam_width: Optional[int], lexicon: Optional[Iterable[str]], lexicon_mode: Optional[str], pattern: Optional[str],
                    alternatives: Optional[int], reject_threshold: float, deadline_ms: int,
                    errors: BatchErrors) -> Sequence[Union[LineResult, HwrError]]:
        raise NotImplementedError

    @overload
    def recognize_batch(self, images: Iterable[_images.ImageLike], top_k: Optional[int] = ...,
                        charset: Optional[str] = ..., errors: Literal["raise"] = ..., *,
                        reject_threshold: float = ..., deadline_ms: int = ...) -> List[CharResult]: ...

    @overload
    def recognize_batch(self, images: Iterable[_images.ImageLike], top_k: Optional[int] = ...,
                        charset: Optional[str] = ..., *, errors: Literal["return"],
                        reject_threshold: float = ..., deadline_ms: int = ...) -> List[Union[CharResult, HwrError]]: ...

    def recognize_batch(self, images: Iterable[_images.ImageLike], top_k: Optional[int] = None,
                        charset: Optional[str] = None, errors: BatchErrors = "raise", *,
                        reject_threshold: float = 0.0, deadline_ms: int = 0) -> Sequence[Union[CharResult, HwrError]]:
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
            top_k, charset, reject_threshold, deadline_ms: as for :meth:`recognize_char`.
            errors: ``"raise"`` or ``"return"``.

        Returns:
            One entry per image, in order.
        """
        return self._char_batch(images, top_k, charset, reject_threshold, deadline_ms, errors)

    @overload
    def recognize_lines(self, images: Iterable[_images.ImageLike], charset: Optional[str] = ...,
                        errors: Literal["raise"] = ..., *, auto: bool = ..., beam_width: Optional[int] = ...,
                        lexicon: Optional[Iterable[str]] = ..., lexicon_mode: Optional[str] = ..., pattern: Optional[str] = ...,
                        alternatives: Optional[int] = ..., reject_threshold: float = ..., deadline_ms: int = ...) -> List[LineResult]: ...

    @overload
    def recognize_lines(self, images: Iterable[_images.ImageLike], charset: Optional[str] = ..., *,
                        errors: Literal["return"], auto: bool = ..., beam_width: Optional[int] = ...,
                        lexicon: Optional[Iterable[str]] = ..., lexicon_mode: Optional[str] = ..., pattern: Optional[str] = ...,
                        alternatives: Optional[int] = ...,
                        reject_threshold: float = ..., deadline_ms: int = ...) -> List[Union[LineResult, HwrError]]: ...

    def recognize_lines(self, images: Iterable[_images.ImageLike], charset: Optional[str] = None,
                        errors: BatchErrors = "raise", *, auto: bool = False, beam_width: Optional[int] = None,
                        lexicon: Optional[Iterable[str]] = None, lexicon_mode: Optional[str] = None, pattern: Optional[str] = None,
                        alternatives: Optional[int] = None,
                        reject_threshold: float = 0.0, deadline_ms: int = 0) -> Sequence[Union[LineResult, HwrError]]:
        """Reads many line images in one batched pass: :meth:`recognize_line` for each, with the
        per-item error handling of :meth:`recognize_batch` (``errors="raise"`` or ``"return"``)."""
        return self._line_batch(images, auto, charset, beam_width, lexicon, lexicon_mode, pattern, alternatives, reject_threshold, deadline_ms,
                                errors)


class Engine(_BatchCalls):
    """A handwriting recognition engine: the character model, optionally the line model (codes)
    and the text-line model (free text; it also reads pages), and their workspaces.

    One engine may be shared by any number of threads: the recognition calls release the GIL and
    run concurrently in the library. Use it as a context manager, or call :meth:`close`::

        with hwr.Engine() as engine:
            print(engine.recognize_char("digit.png").text)
            print(engine.recognize_line("word.png").text)
            print(engine.recognize_page("note.jpg").lines[0].words[0].box)

    Args:
        model: the character model file (``.hwrm``), or ``None`` for the library's default: the
            file named by ``HWR_MODEL``, else the installed model, else ``models/hwr-char.hwrm`` of
            a source checkout.
        threads: threads a batch (in page mode: the preprocessing and the lines) is split over
            (``None`` or 0: one per core). Each runs its share of the images with the BLAS as
            the process configured it: the engine changes no process-wide setting (a host that
            wants single-threaded OpenBLAS sets it itself).
        line_model: the line model file (codes: digits and upper-case letters), or ``None`` for
            the default: ``HWR_LINE_MODEL``, else the installed ``hwr-line.hwrm``, else the
            checkout's. When neither a line nor a text-line model is found the engine still
            opens; :meth:`recognize_line` and :meth:`recognize_page` then raise
            :class:`UnsupportedError` (and ``auto=True`` uses the character model).
        text_model: the text-line model file (free text: case, spaces, punctuation), or ``None``
            for the default: ``HWR_TEXT_MODEL``, else the installed ``hwr-text.hwrm``, else the
            checkout's. A line request whose charset is ``"digits"``, ``"letters"``, ``"alnum"``
            or characters of the line model, or that has a pattern and no charset, is read by the
            line model; any other by the text-line model (``hwr.h``, ``HWR_MODE_LINE``).
        max_pixels: the largest image this engine accepts, in pixels (``None`` or 0: the
            library's limit, ``HWR_MAX_IMAGE_PIXELS``). It can only lower that limit. Larger
            images raise :class:`ImageTooLargeError` (or, for PNG and JPEG files, are decoded at
            a reduced scale, as the library documents).

    Raises:
        HwrIOError: a model file cannot be read.
        ModelFormatError: a file is not a valid hwr model of the right kind.
        InvalidArgumentError: a bad option.
        hwr.LibraryLoadError: ``libhwr.so`` not found, or of another ABI version.
    """

    def __init__(self, model: Optional[PathLike] = None, threads: Optional[int] = None,
                 line_model: Optional[PathLike] = None, *, max_pixels: Optional[int] = None,
                 text_model: Optional[PathLike] = None) -> None:
        self._handle: Optional[int] = None  # set first: __del__ runs even if __init__ fails
        self._cond = threading.Condition(threading.Lock())
        self._active = 0
        lib = _lib.get_lib()
        self._lib = lib
        opts = _lib.engine_options_init()  # None below: keep the header's default (0 / NULL)
        model_bytes = None if model is None else os.fsencode(model)
        line_bytes = None if line_model is None else os.fsencode(line_model)
        opts.model_path = model_bytes
        opts.line_model_path = line_bytes
        opts.text_model_path = None if text_model is None else os.fsencode(text_model)
        if threads is not None:
            opts.threads = _check_int("threads", threads)
        if max_pixels is not None:
            opts.max_pixels = _check_int("max_pixels", max_pixels, _lib.INT64_MIN, _lib.INT64_MAX)
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
        line = lib.hwr_engine_line_model_path(handle)
        self._line_model_path = None if line is None else _lib.decode(line)
        text = lib.hwr_engine_text_model_path(handle)
        self._text_model_path = None if text is None else _lib.decode(text)
        self._precisions = {}
        for name, selector in (("char", _lib.HWR_MODEL_CHAR), ("line", _lib.HWR_MODEL_LINE),
                               ("text", _lib.HWR_MODEL_TEXT)):
            precision = lib.hwr_engine_model_precision(handle, selector)
            if precision is not None:
                self._precisions[name] = _lib.decode(precision)

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
                f"path={self._model_path!r} line_model={self._line_model_path!r} "
                f"text_model={self._text_model_path!r}>")

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
        """Name of the loaded character model, for example ``"hwr-char"``."""
        return self._model_name

    @property
    def model_version(self) -> str:
        """Version of the loaded character model."""
        return self._model_version

    @property
    def model_path(self) -> str:
        """Path of the loaded character model file."""
        return self._model_path

    @property
    def line_model_path(self) -> Optional[str]:
        """Path of the loaded line model file, or ``None`` when the engine has no line model."""
        return self._line_model_path

    @property
    def text_model_path(self) -> Optional[str]:
        """Path of the loaded text-line model file, or ``None`` when the engine has none."""
        return self._text_model_path

    @property
    def precisions(self) -> Dict[str, str]:
        """Precision of each loaded model's matrix products, ``{"char": "fp32", "text": "int8", ...}``
        (``"int8"`` for a model written by ``hwr quantize``); the keys are the loaded models among
        ``"char"``, ``"line"`` and ``"text"``."""
        return dict(self._precisions)

    @property
    def charset(self) -> str:
        """The characters the character model can output, in class order (``"0123...XYZ"``)."""
        return self._charset

    # ---- options -----------------------------------------------------------------------------

    @staticmethod
    def _common(opts: _Options, charset: Optional[str], reject_threshold: float, deadline_ms: int) -> None:
        if charset is not None:
            encoded = _check_str("charset", charset)
            opts.keep.append(encoded)
            opts.struct.charset = encoded
        if not isinstance(reject_threshold, (int, float)) or isinstance(reject_threshold, bool):
            raise TypeError(f"reject_threshold must be a float, not {type(reject_threshold).__name__}")
        opts.struct.reject_threshold = reject_threshold  # its range (and NaN) is the library's to judge
        opts.struct.deadline_ms = _check_int("deadline_ms", deadline_ms)  # its range is the library's too

    def _char_options(self, top_k: Optional[int], charset: Optional[str], reject_threshold: float, deadline_ms: int) -> _Options:
        opts = _Options(_lib.HWR_MODE_CHAR)
        opts.struct.top_k = _option("top_k", top_k, opts.struct.top_k)
        self._common(opts, charset, reject_threshold, deadline_ms)
        return opts

    def _line_options(self, mode: int, charset: Optional[str], beam_width: Optional[int],
                      lexicon: Optional[Iterable[str]], lexicon_mode: Optional[str], pattern: Optional[str], alternatives: Optional[int],
                      reject_threshold: float, deadline_ms: int) -> _Options:
        opts = _Options(mode)
        self._common(opts, charset, reject_threshold, deadline_ms)
        opts.struct.beam_width = _option("beam_width", beam_width, opts.struct.beam_width)
        opts.struct.alternatives = _option("alternatives", alternatives, opts.struct.alternatives)
        if pattern is not None:
            encoded = _check_str("pattern", pattern)
            opts.keep.append(encoded)
            opts.struct.pattern = encoded
        if lexicon_mode is not None:
            opts.struct.lexicon_mode = _lexicon_mode(lexicon_mode)
        if lexicon is not None:
            if isinstance(lexicon, (str, bytes)):
                raise TypeError("lexicon must be a collection of words (for example a list of str), not a string")
            words = [_check_str("lexicon word", w) for w in lexicon]
            if not words:
                raise InvalidArgumentError("lexicon is empty: pass None for no lexicon")
            array = (ctypes.c_char_p * len(words))(*words)
            opts.keep += [words, array]
            opts.struct.lexicon = ctypes.cast(array, ctypes.POINTER(ctypes.c_char_p))
            opts.struct.lexicon_count = len(words)
        return opts

    # ---- calls -------------------------------------------------------------------------------

    @staticmethod
    def _box(fn: Any, *where: int) -> Box:
        """A box written by ``hwr_result_line_box`` / ``hwr_result_word_box`` at ``where``."""
        x, y, width, height = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int32()
        status = fn(*where, ctypes.byref(x), ctypes.byref(y), ctypes.byref(width), ctypes.byref(height))
        if status != _lib.HWR_OK:  # only for an index out of range: the counts said it exists
            raise error_for_status(_lib.HWR_ERR_INTERNAL, f"{fn.__name__}{where[1:]} failed with status {status}")
        return Box(x.value, y.value, width.value, height.value)

    def _lines(self, result: ctypes.c_void_p, i: int) -> Tuple[PageLine, ...]:
        """The layout of item ``i``: its lines with their words (none unless read as a page)."""
        lib = self._lib
        lines = []
        for line in range(lib.hwr_result_line_count(result, i)):
            words = tuple(
                Word(_lib.decode(lib.hwr_result_word_text(result, i, line, w)),
                     float(lib.hwr_result_word_confidence(result, i, line, w)),
                     self._box(lib.hwr_result_word_box, result, i, line, w))
                for w in range(lib.hwr_result_word_count(result, i, line)))
            lines.append(PageLine(_lib.decode(lib.hwr_result_line_text(result, i, line)),
                                  float(lib.hwr_result_line_confidence(result, i, line)),
                                  self._box(lib.hwr_result_line_box, result, i, line), words))
        return tuple(lines)

    def _item(self, result: ctypes.c_void_p, i: int, cls: Type[R]) -> Union[R, HwrError]:
        """Item ``i`` of a result as ``cls`` (``CharResult``, ``LineResult`` or ``Page``), or the
        error of a failed item."""
        lib = self._lib
        status = lib.hwr_result_status(result, i)
        if status != _lib.HWR_OK:
            message = _lib.decode(lib.hwr_result_error(result, i)) or _lib.decode(lib.hwr_status_string(status))
            return error_for_status(status, message)
        text = _lib.decode(lib.hwr_result_text(result, i))
        confidence = float(lib.hwr_result_confidence(result, i))
        if cls is Page:
            return Page(text, confidence, self._lines(result, i))  # type: ignore[return-value]
        candidates = tuple(
            Candidate(_lib.decode(lib.hwr_result_candidate_text(result, i, k)),
                      float(lib.hwr_result_candidate_score(result, i, k)))
            for k in range(lib.hwr_result_candidate_count(result, i)))
        chars = tuple(
            Candidate(_lib.decode(lib.hwr_result_char_text(result, i, j)),
                      float(lib.hwr_result_char_score(result, i, j)))
            for j in range(lib.hwr_result_char_count(result, i)))
        rejected = bool(lib.hwr_result_rejected(result, i))
        if cls is LineResult:
            lines = self._lines(result, i)  # auto mode read the image as a page
            page = Page(text, confidence, lines) if lines else None
            return LineResult(text, confidence, candidates, chars, rejected, page)  # type: ignore[return-value]
        return cls(text, confidence, candidates, chars, rejected)

    def _call(self, fn: Any, images: Any, count: Optional[int], opts: _Options, expected: int,
              read: Callable[[ctypes.c_void_p], T]) -> T:
        """Runs one library call and ``read`` on its result (``expected`` items), then frees it,
        all with the engine held open (``close`` waits)."""
        handle = self._acquire()
        try:
            result = ctypes.c_void_p()
            if count is None:
                status = fn(handle, ctypes.byref(images), opts.ref(), ctypes.byref(result))
            else:
                status = fn(handle, images, count, opts.ref(), ctypes.byref(result))
            if status != _lib.HWR_OK:
                raise last_error(status)
            try:
                got = self._lib.hwr_result_count(result)
                if got != expected:
                    raise error_for_status(_lib.HWR_ERR_INTERNAL,
                                           f"the library returned {got} result items, expected {expected}")
                return read(result)
            finally:
                self._lib.hwr_result_free(result)
        finally:
            self._release()

    def _single(self, image: _images.ImageLike, opts: _Options, cls: Type[R]) -> R:
        prepared = _images.prepare(image)
        struct = _lib.HwrImage()
        _images.fill(struct, prepared)
        item = self._call(self._lib.hwr_recognize, struct, None, opts, 1, lambda r: self._item(r, 0, cls))
        del prepared
        if isinstance(item, HwrError):
            raise item
        return item

    def _many(self, images: Iterable[_images.ImageLike], opts: _Options, cls: Type[R],
              errors: str) -> List[Union[R, HwrError]]:
        if errors not in ("raise", "return"):
            raise InvalidArgumentError(f"errors must be 'raise' or 'return', not {errors!r}")
        items = list(images)
        out: List[Union[R, HwrError, None]] = [None] * len(items)
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

            def read(result: ctypes.c_void_p) -> None:
                for j, i in enumerate(positions):
                    item = self._item(result, j, cls)
                    if isinstance(item, HwrError):
                        item.index = i
                    out[i] = item

            self._call(self._lib.hwr_recognize_batch, array, len(prepared), opts, len(prepared), read)
        del prepared
        return _settle([r for r in out if r is not None], errors)

    # ---- characters --------------------------------------------------------------------------

    def recognize_char(self, image: _images.ImageLike, top_k: Optional[int] = None, charset: Optional[str] = None, *,
                       reject_threshold: float = 0.0, deadline_ms: int = 0) -> CharResult:
        """Recognises the single character written on ``image`` (character model).

        Args:
            image: a path, encoded PNG/JPEG/PGM bytes, a NumPy uint8 array or a PIL image
                (see :mod:`hwr._images` for the exact rules).
            top_k: number of candidates to return, 1 to the charset size (``None``: the
                library's default, 5; every ``None`` option takes ``hwr_recognize_options_init``'s).
            charset: only these characters may be returned (for example ``"0123456789"``), or
                ``None`` for all. Lower-case letters stand for their upper-case class.
                Probabilities are renormalised over the allowed characters.
            reject_threshold: below this probability of its best reading (0 to 1) the result is
                marked ``rejected`` and its ``text`` is ``""``. Default 0: never.
            deadline_ms: time the call may take, in milliseconds (0 to 2**31 - 1; default 0: no
                limit), checked between images, lines and pages and at every decoding step. Every
                recognition call takes it; in a batch, the images not read in time are
                :class:`DeadlineExceededError` items.

        Returns:
            The best reading and the ``top_k`` candidates.

        Raises:
            DeadlineExceededError: ``deadline_ms`` passed before the image was read.
            ImageDecodeError, ImageEmptyError, ImageTooLargeError: a bad image.
            HwrIOError: an unreadable path.
            InvalidArgumentError: a bad option or array; also when the engine is closed.
            TypeError: ``image`` is not an image type hwr accepts, or an option has the wrong type.
        """
        opts = self._char_options(top_k, charset, reject_threshold, deadline_ms)
        return self._single(image, opts, CharResult)

    def _char_batch(self, images: Iterable[_images.ImageLike], top_k: Optional[int], charset: Optional[str],
                    reject_threshold: float, deadline_ms: int, errors: BatchErrors) -> Sequence[Union[CharResult, HwrError]]:
        opts = self._char_options(top_k, charset, reject_threshold, deadline_ms)
        return self._many(images, opts, CharResult, errors)

    # ---- lines ----------------------------------------------------------------------------------

    def recognize_line(self, image: _images.ImageLike, charset: Optional[str] = None, *, auto: bool = False,
                       beam_width: Optional[int] = None, lexicon: Optional[Iterable[str]] = None, lexicon_mode: Optional[str] = None,
                       pattern: Optional[str] = None, alternatives: Optional[int] = None,
                       reject_threshold: float = 0.0, deadline_ms: int = 0) -> LineResult:
        """Reads a word, code or line of text written on ``image`` (line model, no segmentation).

        Args:
            image: any image type :meth:`recognize_char` accepts.
            charset: only these characters may be read, or ``None`` for all.
            auto: ``False``: the line model (:class:`UnsupportedError` if the engine has none;
                an image holding several lines raises :class:`InvalidArgumentError`: read it with
                :meth:`recognize_page` or ``auto=True``).
                ``True``: the line model, falling back to the character model when it finds at
                most one character or when the engine has no line model, and reading an image
                that holds several lines as a page (as :meth:`recognize_page`): then ``text`` is
                the lines joined by ``"\\n"`` and :attr:`LineResult.page` holds the layout.
            beam_width: beam search width, 1 to 1000 (1 with no constraint: greedy decoding;
                ``None``: the library's default, 10).
            lexicon: only these words may be read (case-insensitive; a whole-line word comes back
                as the list spells it), or ``None``. Must not be empty.
            lexicon_mode: ``"line"`` (``None``: the library's default): the whole reading is one
                of the lexicon's words;
                ``"words"``: a dictionary, each word of free text is one of its words, with
                digits, spaces and punctuation free between them (word beam search).
            pattern: a fixed-length pattern, or ``None``: literal characters, ``.`` (any),
                ``\\d`` (digit), ``\\a`` (letter), sets such as ``[A-F0-9]``, each optionally
                followed by ``{n}``. Example: ``r"\\a\\d{4}"`` reads a letter then four digits.
            alternatives: alternative readings to return, 1 to 100 (``None``: the library's
                default, 5).
            reject_threshold: below this probability of the best reading (0 to 1) the result is
                marked ``rejected`` and its ``text`` is ``""``.

        Returns:
            The best reading, its per-character probabilities and the alternative readings
            (``page``: ``None``, except in auto mode on an image with several lines).

        Raises:
            UnsupportedError: no line model and ``auto`` is false.
            the image errors and :class:`InvalidArgumentError` as :meth:`recognize_char`.
        """
        mode = _lib.HWR_MODE_AUTO if auto else _lib.HWR_MODE_LINE
        opts = self._line_options(mode, charset, beam_width, lexicon, lexicon_mode, pattern, alternatives, reject_threshold, deadline_ms)
        return self._single(image, opts, LineResult)

    def _line_batch(self, images: Iterable[_images.ImageLike], auto: bool, charset: Optional[str],
                    beam_width: Optional[int], lexicon: Optional[Iterable[str]], lexicon_mode: Optional[str], pattern: Optional[str],
                    alternatives: Optional[int], reject_threshold: float, deadline_ms: int,
                    errors: BatchErrors) -> Sequence[Union[LineResult, HwrError]]:
        mode = _lib.HWR_MODE_AUTO if auto else _lib.HWR_MODE_LINE
        opts = self._line_options(mode, charset, beam_width, lexicon, lexicon_mode, pattern, alternatives, reject_threshold, deadline_ms)
        return self._many(images, opts, LineResult, errors)

    # ---- pages ----------------------------------------------------------------------------------

    def recognize_page(self, image: _images.ImageLike, *, beam_width: Optional[int] = None,
                       lexicon: Optional[Iterable[str]] = None, lexicon_mode: Optional[str] = None, charset: Optional[str] = None,
                       pattern: Optional[str] = None, alternatives: Optional[int] = None,
                       reject_threshold: float = 0.0, deadline_ms: int = 0) -> Page:
        """Reads a page, note or form field with several lines (``HWR_MODE_PAGE``): the library
        finds the lines (correcting a skew of a few degrees), reads each with the line model, and
        splits them into words.

        A single line is a page of one line. Boxes are in pixels of the original image as it is
        meant to be viewed (after its EXIF orientation is applied)::

            page = engine.recognize_page("note.jpg")
            print(page.text)                       # the lines joined by "\\n"
            for line in page.lines:                # top to bottom
                print(line.box, [(w.text, w.box) for w in line.words])   # words left to right

        Args:
            image: any image type :meth:`recognize_char` accepts.
            beam_width, lexicon, charset, pattern, alternatives: as for :meth:`recognize_line`,
                applied to each line.
            reject_threshold: as for :meth:`recognize_line`, applied to each line: a line whose
                reading falls below it has ``text`` ``""`` and no words.

        Returns:
            The page's text and confidence, and its lines with their boxes and words.

        Raises:
            UnsupportedError: the engine has no line model.
            ImageEmptyError: nothing is written on the image (no line found).
            the other image errors and :class:`InvalidArgumentError` as :meth:`recognize_char`.
        """
        opts = self._line_options(_lib.HWR_MODE_PAGE, charset, beam_width, lexicon, lexicon_mode, pattern, alternatives,
                                  reject_threshold, deadline_ms)
        return self._single(image, opts, Page)

    @overload
    def recognize_pages(self, images: Iterable[_images.ImageLike], *, errors: Literal["raise"] = ...,
                        beam_width: Optional[int] = ..., lexicon: Optional[Iterable[str]] = ..., lexicon_mode: Optional[str] = ...,
                        charset: Optional[str] = ..., pattern: Optional[str] = ...,
                        alternatives: Optional[int] = ..., reject_threshold: float = ..., deadline_ms: int = ...) -> List[Page]: ...

    @overload
    def recognize_pages(self, images: Iterable[_images.ImageLike], *, errors: Literal["return"],
                        beam_width: Optional[int] = ..., lexicon: Optional[Iterable[str]] = ..., lexicon_mode: Optional[str] = ...,
                        charset: Optional[str] = ..., pattern: Optional[str] = ...,
                        alternatives: Optional[int] = ...,
                        reject_threshold: float = ..., deadline_ms: int = ...) -> List[Union[Page, HwrError]]: ...

    def recognize_pages(self, images: Iterable[_images.ImageLike], *, errors: BatchErrors = "raise",
                        beam_width: Optional[int] = None, lexicon: Optional[Iterable[str]] = None, lexicon_mode: Optional[str] = None,
                        charset: Optional[str] = None, pattern: Optional[str] = None,
                        alternatives: Optional[int] = None,
                        reject_threshold: float = 0.0, deadline_ms: int = 0) -> Sequence[Union[Page, HwrError]]:
        """Reads many pages in one call: :meth:`recognize_page` for each, with the per-item error
        handling of :meth:`recognize_batch` (``errors="raise"`` or ``"return"``; a blank page is
        an :class:`ImageEmptyError` item). :class:`UnsupportedError` (no line model) is raised for
        the whole call."""
        opts = self._line_options(_lib.HWR_MODE_PAGE, charset, beam_width, lexicon, lexicon_mode, pattern, alternatives,
                                  reject_threshold, deadline_ms)
        return self._many(images, opts, Page, errors)

    # ---- sequences ------------------------------------------------------------------------------

    def recognize_sequence(self, images: Iterable[_images.ImageLike], charset: Optional[str] = None, *,
                           beam_width: Optional[int] = None, lexicon: Optional[Iterable[str]] = None, lexicon_mode: Optional[str] = None,
                           pattern: Optional[str] = None, alternatives: Optional[int] = None,
                           reject_threshold: float = 0.0, deadline_ms: int = 0) -> LineResult:
        """Reads already segmented character images, in order, as the characters of one string.

        A blank image (nothing written on it) is a space between words: this builds words and
        sentences from consecutive character images, and the lexicon, pattern and charset apply
        to each word. ``chars`` of the result has one entry per character of the string (a space
        for each gap between words); ``candidates`` are alternative strings. The options are those
        of :meth:`recognize_line`.

        Raises:
            the error of the first unreadable image (its position is in the message; an
            unreadable path raises :class:`HwrIOError` with ``index`` set);
            ImageEmptyError: every image is blank;
            InvalidArgumentError: no images, or a bad option.
        """
        opts = self._line_options(_lib.HWR_MODE_LINE, charset, beam_width, lexicon, lexicon_mode, pattern, alternatives,
                                  reject_threshold, deadline_ms)
        prepared: List[_images.Prepared] = []
        for i, image in enumerate(images):
            try:
                prepared.append(_images.prepare(image))
            except (InvalidArgumentError, TypeError):
                raise
            except HwrError as e:
                e.index = i
                raise
        if not prepared:
            raise InvalidArgumentError("recognize_sequence needs at least one image")
        array = (_lib.HwrImage * len(prepared))()
        for struct, p in zip(array, prepared):
            _images.fill(struct, p)
        item = self._call(self._lib.hwr_recognize_sequence, array, len(prepared), opts, 1,
                          lambda r: self._item(r, 0, LineResult))
        del prepared
        if isinstance(item, HwrError):
            raise item
        return item
