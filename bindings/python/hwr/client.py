"""The :class:`Client`: the recognition calls of :class:`hwr.Engine`, served by an ``hwr worker``
over ZeroMQ, with the protobuf API of ``proto/hwr.proto``.

Needs ``pyzmq`` and ``protobuf`` (``pip install 'hwr[client]'``). They are imported when a client is
created, not when ``hwr`` is imported, so the rest of the package works without them.
"""

from __future__ import annotations

import io
import itertools
import math
import os
import threading
import time
import uuid
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple,
                    Type, TypeVar, Union)

from . import _images, _lib
from .engine import BatchErrors, _BatchCalls, _check_int, _check_str, _lexicon_mode, _settle
from .errors import (DeadlineExceededError, HwrError, ImageDecodeError, ImageTooLargeError, InternalError,
                     InvalidArgumentError, OverloadedError, ShuttingDownError, TimeoutError,
                     UnsupportedError, WrongVersionError)
from .types import Box, Candidate, CharResult, LineResult, ModelInfo, Page, PageLine, ServingStats, Word

if TYPE_CHECKING:  # pragma: no cover
    import zmq

__all__ = ["Client", "PROTOCOL_VERSION", "DEFAULT_MAX_MESSAGE_BYTES"]

#: The ``protocol_version`` this client speaks (``hwr.v1``).
PROTOCOL_VERSION = 1

#: The default of ``hwr worker --max-message-bytes`` (a test compares it with the worker's help):
#: the largest request a :class:`Client` sends unless told otherwise.
DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024

# hwr.v1.StatusCode (proto/hwr.proto); kept here so that mapping errors needs no protobuf import.
_OK = 0
_BAD_REQUEST = 1
_UNSUPPORTED = 2
_IMAGE_TOO_LARGE = 3
_DECODE_FAILURE = 4
_OVERLOADED = 5
_INTERNAL = 6
_WRONG_VERSION = 7
_SHUTTING_DOWN = 8
_DEADLINE_EXCEEDED = 9

_UINT32_MAX = 2**32 - 1

_STATUS_NAMES = {_OK: "OK", _BAD_REQUEST: "BAD_REQUEST", _UNSUPPORTED: "UNSUPPORTED",
                 _IMAGE_TOO_LARGE: "IMAGE_TOO_LARGE", _DECODE_FAILURE: "DECODE_FAILURE",
                 _OVERLOADED: "OVERLOADED", _INTERNAL: "INTERNAL", _WRONG_VERSION: "WRONG_VERSION",
                 _SHUTTING_DOWN: "SHUTTING_DOWN", _DEADLINE_EXCEEDED: "DEADLINE_EXCEEDED"}

#: The exception class of each wire status. A status this client does not know (a newer worker)
#: gives InternalError: proto/hwr.proto says unknown enum values read as the zero value, but the
#: zero StatusCode is OK, and taking an unknown failure for a success would be wrong.
_ERROR_BY_WIRE_STATUS: Dict[int, Type[HwrError]] = {
    _BAD_REQUEST: InvalidArgumentError,
    _UNSUPPORTED: UnsupportedError,
    _IMAGE_TOO_LARGE: ImageTooLargeError,
    _DECODE_FAILURE: ImageDecodeError,  # also empty / blank images (the Engine's ImageEmptyError)
    _OVERLOADED: OverloadedError,
    _INTERNAL: InternalError,
    _WRONG_VERSION: WrongVersionError,
    _SHUTTING_DOWN: ShuttingDownError,
    _DEADLINE_EXCEEDED: DeadlineExceededError,
}

#: Statuses after which a request is retried (the worker did not process it).
_RETRIED_STATUSES = (_OVERLOADED, _SHUTTING_DOWN)

# hwr.v1.Encoding and hwr.v1.Mode.
_ENCODING_AUTO = 0
_ENCODING_PNG = 1
_ENCODING_GRAY8 = 4
_MODE_CHAR = 0
_MODE_LINE = 1
_MODE_AUTO = 2
_MODE_PAGE = 3

R = TypeVar("R", CharResult, LineResult)


def _status_name(status: int) -> str:
    return _STATUS_NAMES.get(status, f"status {status}")


def _wire_error(status: int, message: str, request_id: str, index: Optional[int] = None) -> HwrError:
    cls = _ERROR_BY_WIRE_STATUS.get(status, InternalError)
    if not message:
        message = f"the worker answered {_status_name(status)}"
    elif status not in _STATUS_NAMES:
        message = f"the worker answered an unknown status {status}: {message}"
    e = cls(message, index=index)
    e.wire_status = status
    e.request_id = request_id
    return e


def _import_dependencies() -> Tuple[Any, Any]:
    try:
        import zmq  # noqa: PLC0415 - optional dependency, imported on use
    except ImportError as e:
        raise ImportError("hwr.Client needs pyzmq (and protobuf): pip install 'hwr[client]'") from e
    try:
        from ._proto import hwr_pb2  # noqa: PLC0415
    except ImportError as e:
        raise ImportError(f"hwr.Client needs protobuf >= 3.20 (and pyzmq): pip install 'hwr[client]' ({e})") from e
    return zmq, hwr_pb2


# ---- images ------------------------------------------------------------------------------------

def _png(img: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _fill_from_array(msg: Any, obj: Any) -> None:
    import numpy as np  # noqa: PLC0415 - optional dependency, imported on use

    a = _images.uint8_array(obj)
    if a.ndim == 2:
        msg.encoding = _ENCODING_GRAY8
        msg.height, msg.width = (int(n) for n in a.shape)
        msg.data = np.ascontiguousarray(a).tobytes()
    elif a.ndim == 3 and a.shape[2] in (3, 4):
        try:
            from PIL import Image  # noqa: PLC0415
        except ImportError as e:
            raise InvalidArgumentError(
                "colour arrays are sent to the worker as PNG, which needs Pillow (pip install 'hwr[pil]'); "
                "or pass an H x W grey array") from e
        msg.encoding = _ENCODING_PNG
        msg.data = _png(Image.fromarray(np.ascontiguousarray(a)))
    else:
        raise InvalidArgumentError(
            f"image array must be H x W (grey) or H x W x C with C in 1, 3, 4; got shape {a.shape}")


def _fill_from_pil(msg: Any, img: Any) -> None:
    img = _images.grey_or_rgba(img)  # as the Engine does
    if img.mode == "L":
        msg.encoding = _ENCODING_GRAY8
        msg.width, msg.height = img.size
        msg.data = img.tobytes()
        return
    msg.encoding = _ENCODING_PNG
    msg.data = _png(img)


def _fill_image(msg: Any, image: Any) -> None:
    """Fills an ``hwr.v1.Image``: encoded bytes and paths as ENCODING_AUTO, grey arrays and 'L'
    images as GRAY8, colour ones as PNG (Pillow). Raises like :func:`hwr._images.prepare`."""
    if isinstance(image, bytes):
        msg.data = image
    elif isinstance(image, (str, os.PathLike)):
        msg.data = _images.read_path(image)
    elif isinstance(image, (bytearray, memoryview)):
        msg.data = bytes(image)
    elif _images._is_pil(image):
        _fill_from_pil(msg, image)
    elif _images._is_array(image):
        try:
            import numpy  # noqa: F401, PLC0415
        except ImportError as e:  # pragma: no cover - only without numpy
            raise TypeError("array images need NumPy: pip install 'hwr[numpy]'") from e
        _fill_from_array(msg, image)
    else:
        raise TypeError(
            "image must be a path (str or os.PathLike), encoded bytes (bytes, bytearray, memoryview), "
            f"a NumPy uint8 array or a PIL image, not {type(image).__name__}")


# ---- options -----------------------------------------------------------------------------------

def _positive(name: str, value: Any) -> int:
    # 0 would mean "the worker's default" on the wire: refuse it as the Engine does.
    if _check_int(name, value) < 1:
        raise InvalidArgumentError(f"{name} must be >= 1, not {value}")
    return value


def _common_options(opts: Any, charset: Optional[str], reject_threshold: float) -> None:
    if charset is not None:
        _check_str("charset", charset)
        if not charset:  # "" means "every character" on the wire; the Engine refuses it
            raise InvalidArgumentError("charset is empty: pass None for every character")
        opts.charset = charset
    if not isinstance(reject_threshold, (int, float)) or isinstance(reject_threshold, bool):
        raise TypeError(f"reject_threshold must be a float, not {type(reject_threshold).__name__}")
    if not 0.0 <= reject_threshold <= 1.0:  # also refuses NaN
        raise InvalidArgumentError(f"reject_threshold must be in [0, 1], not {reject_threshold}")
    opts.reject_threshold = float(reject_threshold)


def _default(name: str, value: Optional[int]) -> int:
    """An int option, or, when ``None``, the C header's default (``hwr_recognize_options_init``),
    sent explicitly: the Engine's defaults, whatever the worker's are."""
    return getattr(_lib.recognize_options_init(), name) if value is None else value


def _char_options(opts: Any, top_k: Optional[int], charset: Optional[str], reject_threshold: float) -> None:
    opts.top_k = _positive("top_k", _default("top_k", top_k))
    _common_options(opts, charset, reject_threshold)


def _line_options(opts: Any, charset: Optional[str], beam_width: Optional[int], lexicon: Optional[Iterable[str]], lexicon_mode: Optional[str],
                  pattern: Optional[str], alternatives: Optional[int], reject_threshold: float) -> None:
    _common_options(opts, charset, reject_threshold)
    opts.beam_width = _positive("beam_width", _default("beam_width", beam_width))
    opts.alternatives = _positive("alternatives", _default("alternatives", alternatives))
    if pattern is not None:
        _check_str("pattern", pattern)
        if not pattern:
            raise InvalidArgumentError("pattern is empty: pass None for no pattern")
        opts.pattern = pattern
    if lexicon_mode is not None:
        opts.lexicon_mode = _lexicon_mode(lexicon_mode)
    if lexicon is not None:
        if isinstance(lexicon, (str, bytes)):
            raise TypeError("lexicon must be a collection of words (for example a list of str), not a string")
        words = list(lexicon)
        for w in words:
            _check_str("lexicon word", w)
        if not words:
            raise InvalidArgumentError("lexicon is empty: pass None for no lexicon")
        opts.lexicon.extend(words)


def _box(b: Any) -> Box:
    return Box(int(b.x), int(b.y), int(b.width), int(b.height))


def _page(rec: Any) -> Optional[Page]:
    """The layout of a Recognition (page mode, or auto mode on a page), or None when it has none."""
    if not rec.lines:
        return None
    lines = tuple(PageLine(line.text, float(line.confidence), _box(line.box),
                           tuple(Word(w.text, float(w.confidence), _box(w.box)) for w in line.words))
                  for line in rec.lines)
    return Page(rec.text, float(rec.confidence), lines)


def _reading(rec: Any, cls: Type[R]) -> R:
    if cls is Page:
        return _page(rec) or Page(rec.text, float(rec.confidence), ())  # type: ignore[return-value]
    candidates = tuple(Candidate(a.text, float(a.score)) for a in rec.alternatives)
    chars = tuple(Candidate(c.text, float(c.p)) for c in rec.chars)
    if cls is LineResult:
        return LineResult(rec.text, float(rec.confidence), candidates, chars, bool(rec.rejected),  # type: ignore[return-value]
                          _page(rec))
    return cls(rec.text, float(rec.confidence), candidates, chars, bool(rec.rejected))


class Client(_BatchCalls):
    """A client of an ``hwr worker`` (ZeroMQ): the recognition calls of :class:`hwr.Engine`, with
    the same arguments, result types and errors, run by a worker process.

    ::

        with hwr.Client("tcp://127.0.0.1:5555", timeout=2.0, retries=2) as client:
            print(client.recognize_char("digit.png").text)
            print(client.recognize_line("word.png", lexicon=["HELLO", "WORLD"]).text)
            print(client.model_info().model_name, client.health())

    **Timeouts and retries.** Each call is one *request* with a fresh ``request_id``. The client
    sends it and waits up to ``timeout`` seconds for the reply carrying that ``request_id``. If none
    comes, the socket is closed (linger 0, dropping anything still queued) and a new one is
    connected, and the same request (same ``request_id``) is sent again, up to ``retries`` more
    times; then :class:`hwr.TimeoutError` is raised. A reply whose ``request_id`` is not the awaited
    one (a late reply of an earlier, abandoned request) is discarded; an error reply with an empty
    ``request_id`` (the worker could not read the request) is taken as the answer, since on one
    socket every earlier request was answered. So a call returns exactly one answer, the one to
    its own request, or raises; but a retried request may have been processed by the worker more
    than once (recognition has no side effects, so this is harmless). A reply
    ``OVERLOADED`` or ``SHUTTING_DOWN`` (the worker did not process the request) is retried the
    same way, after ``backoff`` seconds (doubled each time); when no attempt is left it raises
    :class:`hwr.OverloadedError` / :class:`hwr.ShuttingDownError`. Other failures are not retried.
    A worker that is not running yet is not an error: ZeroMQ connects when it comes up, within the
    timeout.

    **Size.** A request larger than ``max_message_bytes`` is refused before it is sent, with
    :class:`ImageTooLargeError` (``wire_status`` ``None``): the worker would answer it
    ``IMAGE_TOO_LARGE``, or, above its transport's cap (8 times its limit), drop the connection
    without a reply. Pass the worker's own limit (``ModelInfo.max_message_bytes``) when it is not
    the default.

    **Deadlines.** Every recognition call takes ``deadline_ms=`` (``Request.deadline_ms``): the
    time the worker may take, counted from when it receives the request; past it the call raises
    :class:`DeadlineExceededError` (in a batch, for the images not read in time). 0 (default): the
    worker's ``--request-timeout-ms``, if any. Keep it below ``timeout``, which bounds each attempt.

    **Errors.** The worker's statuses map to the Engine's classes: ``BAD_REQUEST`` ->
    :class:`InvalidArgumentError`, ``UNSUPPORTED`` -> :class:`UnsupportedError`,
    ``IMAGE_TOO_LARGE`` -> :class:`ImageTooLargeError` (also a too large message or batch),
    ``DECODE_FAILURE`` -> :class:`ImageDecodeError` (also an empty or blank image, where the Engine
    raises :class:`ImageEmptyError`: the wire has one status for both), ``INTERNAL`` (and unknown
    statuses) -> :class:`InternalError`, ``WRONG_VERSION`` -> :class:`WrongVersionError`. Every
    error raised here has ``wire_status`` and ``request_id`` set (``wire_status`` is ``None`` for
    errors detected locally: timeouts, bad arguments, unreadable paths).

    **Threads.** A ZeroMQ socket must not be used by two threads at once, so the calls of one
    client are serialised by a lock: a client may be shared by threads, but it has at most one
    request in flight. For parallel requests, use one client per thread (they share the ZeroMQ
    context, which is cheap).

    Args:
        endpoint: the worker's (or broker's frontend) ZeroMQ endpoint, for example
            ``"tcp://127.0.0.1:5555"`` or ``"ipc:///tmp/hwr.sock"`` (``inproc://`` needs the
            worker's ``context``).
        timeout: seconds to wait for the reply of each attempt (> 0).
        retries: further attempts after a timeout, ``OVERLOADED`` or ``SHUTTING_DOWN`` (>= 0).
        backoff: seconds to wait before retrying after ``OVERLOADED`` / ``SHUTTING_DOWN``.
        context: the ``zmq.Context`` to create sockets in (default: ``zmq.Context.instance()``).
        max_message_bytes: the largest request to send, bytes (> 0; default: the worker's default
            limit, :data:`DEFAULT_MAX_MESSAGE_BYTES`).

    Raises:
        ImportError: pyzmq or protobuf is not installed.
        InvalidArgumentError: a bad endpoint, timeout, retries, backoff or max_message_bytes.
    """

    def __init__(self, endpoint: str, timeout: float = 5.0, retries: int = 2, *, backoff: float = 0.05,
                 context: Optional["zmq.Context[Any]"] = None,
                 max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self._socket: Optional["zmq.Socket[Any]"] = None  # set first: __del__ runs even if __init__ fails
        self._closed = True
        if not isinstance(endpoint, str):
            raise TypeError(f"endpoint must be a str, not {type(endpoint).__name__}")
        for name, value in (("timeout", timeout), ("backoff", backoff)):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
        if not (timeout > 0 and math.isfinite(timeout)):
            raise InvalidArgumentError(f"timeout must be a positive number of seconds, not {timeout}")
        if not (backoff >= 0 and math.isfinite(backoff)):
            raise InvalidArgumentError(f"backoff must be >= 0 seconds, not {backoff}")
        if _check_int("retries", retries) < 0:
            raise InvalidArgumentError(f"retries must be >= 0, not {retries}")
        self._max_message_bytes = _check_int("max_message_bytes", max_message_bytes, 1, 2**63 - 1)
        self._zmq, self._pb = _import_dependencies()
        self._endpoint = endpoint
        self._timeout = float(timeout)
        self._retries = retries
        self._backoff = float(backoff)
        self._context = context if context is not None else self._zmq.Context.instance()
        self._lock = threading.Lock()
        self._prefix = uuid.uuid4().hex[:12]
        self._counter = itertools.count(1)
        #: Replies received and dropped because their request_id was not the awaited one (or
        #: they could not be parsed); for diagnostics.
        self.discarded_replies = 0
        #: ``server_time_ms`` of the last reply received, or ``None``.
        self.last_server_time_ms: Optional[float] = None
        self._socket = self._new_socket()  # validates the endpoint now
        self._closed = False

    # ---- lifetime ------------------------------------------------------------------------------

    def _new_socket(self) -> "zmq.Socket[Any]":
        zmq = self._zmq
        sock = self._context.socket(zmq.DEALER)
        try:
            sock.setsockopt(zmq.LINGER, 0)
            sock.connect(self._endpoint)
        except zmq.ZMQError as e:
            sock.close(linger=0)
            raise InvalidArgumentError(f"cannot connect to {self._endpoint!r}: {e}") from e
        return sock

    def _reset_socket(self) -> None:
        """Drops the socket and whatever is queued on it (late replies go nowhere)."""
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None

    def close(self) -> None:
        """Closes the socket (waiting for a call in progress in another thread). Calls made
        after ``close`` raise :class:`InvalidArgumentError`. Closing twice is harmless."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            self._closed = True
            self._reset_socket()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @property
    def endpoint(self) -> str:
        """The endpoint this client connects to."""
        return self._endpoint

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (f"<hwr.Client {state} endpoint={self._endpoint!r} timeout={self._timeout} "
                f"retries={self._retries}>")

    # ---- one request ---------------------------------------------------------------------------

    def _attempt(self, body: bytes, request_id: str, notes: List[str]) -> Any:
        """Sends ``body`` and waits for the reply to ``request_id``; ``None`` on timeout (the
        socket is then reset). Any exception (even KeyboardInterrupt) resets the socket too, so
        that no reply of this attempt can reach a later call."""
        zmq = self._zmq
        if self._socket is None:
            self._socket = self._new_socket()
        sock = self._socket
        deadline = time.monotonic() + self._timeout
        try:
            if not sock.poll(max(1, math.ceil(self._timeout * 1000)), zmq.POLLOUT):
                notes.append("the request could not be queued")
                self._reset_socket()
                return None
            sock.send(body, flags=zmq.NOBLOCK)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not sock.poll(max(1, math.ceil(remaining * 1000)), zmq.POLLIN):
                    self._reset_socket()
                    return None
                frames = sock.recv_multipart(flags=zmq.NOBLOCK)
                try:
                    reply = self._pb.Reply.FromString(frames[-1])
                except Exception:  # noqa: BLE001 - DecodeError, or a RuntimeWarning-free variant
                    self.discarded_replies += 1
                    notes.append(f"discarded an unparseable reply of {len(frames[-1])} bytes")
                    continue
                if reply.request_id == request_id:
                    return reply
                if not reply.request_id and reply.status != _OK:
                    # The worker could not read the request_id (an unparseable or over-limit
                    # request). On this socket every earlier request was answered (else the socket
                    # was replaced) and the worker answers each request once, so this is the
                    # answer to the request in flight: ours.
                    return reply
                self.discarded_replies += 1
                notes.append(f"discarded a reply to another request ({reply.request_id!r})")
        except BaseException:
            self._reset_socket()
            raise

    def _request(self, fill: Callable[[Any], None], expected: str) -> Tuple[Any, str]:
        """Builds the request (``fill`` sets its method), sends it with retries and returns the
        reply of method ``expected`` and the request_id; raises the reply's error otherwise."""
        request = self._pb.Request(protocol_version=PROTOCOL_VERSION)
        fill(request)  # may raise argument errors: before anything is sent
        with self._lock:
            if self._closed:
                raise InvalidArgumentError("the client is closed")
            request_id = f"{self._prefix}-{next(self._counter)}"
            request.request_id = request_id
            body = request.SerializeToString()
            if len(body) > self._max_message_bytes:
                e = ImageTooLargeError(f"request {request_id} of {len(body)} bytes exceeds the worker's limit of "
                                       f"{self._max_message_bytes} bytes (max_message_bytes): not sent")
                e.request_id = request_id
                raise e
            notes: List[str] = []
            backoff = self._backoff
            reply = None
            for attempt in range(self._retries + 1):
                if attempt and reply is not None:  # the previous attempt was refused: wait
                    time.sleep(backoff)
                    backoff *= 2
                reply = self._attempt(body, request_id, notes)
                if reply is None:
                    notes.append(f"attempt {attempt + 1}: no reply within {self._timeout:g} s")
                    continue
                self.last_server_time_ms = float(reply.server_time_ms)
                if reply.status in _RETRIED_STATUSES:
                    notes.append(f"attempt {attempt + 1}: {_status_name(reply.status)}")
                    continue
                break
        if reply is None:
            e: HwrError = TimeoutError(f"no reply from {self._endpoint} to request {request_id} "
                                       f"({'; '.join(notes)})")
            e.request_id = request_id
            raise e
        if reply.status != _OK:
            raise _wire_error(reply.status, reply.message, request_id)
        got = reply.WhichOneof("method")
        if got != expected:
            e = InternalError(f"the worker answered request {request_id} ({expected}) with {got or 'no method'}")
            e.wire_status, e.request_id = reply.status, request_id
            raise e
        return getattr(reply, expected), request_id

    # ---- worker information ---------------------------------------------------------------------

    def health(self) -> bool:
        """Whether the worker serves (``HealthReply.serving``).

        Raises:
            TimeoutError: no reply (after the retries): the worker is down or unreachable.
        """
        return bool(self._request(lambda r: r.health.SetInParent(), "health")[0].serving)

    def model_info(self) -> ModelInfo:
        """The worker's models, limits and serving statistics."""
        info, _ = self._request(lambda r: r.model_info.SetInParent(), "model_info")
        s = info.stats
        return ModelInfo(info.model_name, info.model_version, info.charset, bool(info.line_model),
                         info.library_version, int(info.abi_version), int(info.max_message_bytes),
                         int(info.max_pixels), int(info.max_batch),
                         ServingStats(int(s.requests), int(s.errors), int(s.overloaded), float(s.latency_p50_ms),
                                      float(s.latency_p90_ms), float(s.latency_p99_ms), float(s.uptime_s)),
                         bool(info.text_model),
                         {name: precision for name, precision in (("char", info.model_precision),
                                                                  ("line", info.line_model_precision),
                                                                  ("text", info.text_model_precision)) if precision})

    # ---- recognition -----------------------------------------------------------------------------

    def _single(self, image: _images.ImageLike, mode: int, set_options: Callable[[Any], None],
                cls: Type[R], deadline_ms: int) -> R:
        deadline_ms = _check_int("deadline_ms", deadline_ms, 0, _UINT32_MAX)  # what the wire can carry

        def fill(request: Any) -> None:
            request.deadline_ms = deadline_ms
            rec = request.recognize
            rec.mode = mode
            set_options(rec.options)
            _fill_image(rec.image, image)

        reply, request_id = self._request(fill, "recognize")
        result = reply.result
        if result.status != _OK:  # the worker also reports it as the reply's status
            raise _wire_error(result.status, result.message, request_id)
        return _reading(result, cls)

    def _many(self, images: Iterable[_images.ImageLike], mode: int, set_options: Callable[[Any], None],
              cls: Type[R], deadline_ms: int, errors: str) -> List[Union[R, HwrError]]:
        if errors not in ("raise", "return"):
            raise InvalidArgumentError(f"errors must be 'raise' or 'return', not {errors!r}")
        deadline_ms = _check_int("deadline_ms", deadline_ms, 0, _UINT32_MAX)  # what the wire can carry
        items = list(images)
        out: List[Union[R, HwrError, None]] = [None] * len(items)
        positions: List[int] = []

        def fill(request: Any) -> None:
            batch = request.recognize_batch
            batch.mode = mode
            set_options(batch.options)
            for i, image in enumerate(items):
                msg = batch.images.add()
                try:
                    _fill_image(msg, image)
                except (InvalidArgumentError, TypeError):
                    raise
                except HwrError as e:  # unreadable path: an item error like a bad image
                    del batch.images[-1]
                    e.index = i
                    out[i] = e
                    continue
                positions.append(i)

        if items:
            probe = self._pb.Request()
            fill(probe)  # validate and read everything before sending (and before taking the lock)
            if positions:
                body_images = probe.recognize_batch
                def fill_batch(request: Any) -> None:
                    request.deadline_ms = deadline_ms
                    request.recognize_batch.CopyFrom(body_images)

                reply, request_id = self._request(fill_batch, "recognize_batch")
                if len(reply.results) != len(positions):
                    e = InternalError(f"the worker returned {len(reply.results)} results for "
                                      f"{len(positions)} images (request {request_id})")
                    e.request_id = request_id
                    raise e
                for i, rec in zip(positions, reply.results):
                    if rec.status != _OK:
                        out[i] = _wire_error(rec.status, rec.message, request_id, index=i)
                    else:
                        out[i] = _reading(rec, cls)
        return _settle([r for r in out if r is not None], errors)

    def recognize_char(self, image: _images.ImageLike, top_k: Optional[int] = None, charset: Optional[str] = None, *,
                       reject_threshold: float = 0.0, deadline_ms: int = 0) -> CharResult:
        """Recognises the single character written on ``image``: as
        :meth:`hwr.Engine.recognize_char`, by the worker.

        Raises:
            TimeoutError, OverloadedError: no answer (see the class documentation); the errors of
            :meth:`hwr.Engine.recognize_char` otherwise.
        """
        return self._single(image, _MODE_CHAR,
                            lambda o: _char_options(o, top_k, charset, reject_threshold), CharResult, deadline_ms)

    def _char_batch(self, images: Iterable[_images.ImageLike], top_k: Optional[int], charset: Optional[str],
                    reject_threshold: float, deadline_ms: int, errors: BatchErrors) -> Sequence[Union[CharResult, HwrError]]:
        # One RecognizeBatch request; larger than the worker's max_batch: ImageTooLargeError.
        return self._many(images, _MODE_CHAR, lambda o: _char_options(o, top_k, charset, reject_threshold),
                          CharResult, deadline_ms, errors)

    def recognize_line(self, image: _images.ImageLike, charset: Optional[str] = None, *, auto: bool = False,
                       beam_width: Optional[int] = None, lexicon: Optional[Iterable[str]] = None, lexicon_mode: Optional[str] = None,
                       pattern: Optional[str] = None, alternatives: Optional[int] = None,
                       reject_threshold: float = 0.0, deadline_ms: int = 0) -> LineResult:
        """Reads a word, code or line of text written on ``image``: as
        :meth:`hwr.Engine.recognize_line`, by the worker (:class:`UnsupportedError` if it has no
        line model and ``auto`` is false)."""
        return self._single(image, _MODE_AUTO if auto else _MODE_LINE,
                            lambda o: _line_options(o, charset, beam_width, lexicon, lexicon_mode, pattern, alternatives,
                                                    reject_threshold), LineResult, deadline_ms)

    def recognize_page(self, image: _images.ImageLike, *, beam_width: Optional[int] = None,
                       lexicon: Optional[Iterable[str]] = None, lexicon_mode: Optional[str] = None, charset: Optional[str] = None,
                       pattern: Optional[str] = None, alternatives: Optional[int] = None,
                       reject_threshold: float = 0.0, deadline_ms: int = 0) -> Page:
        """Reads a page, note or form field with several lines: as
        :meth:`hwr.Engine.recognize_page`, by the worker (the same lines, words and boxes)."""
        return self._single(image, _MODE_PAGE,
                            lambda o: _line_options(o, charset, beam_width, lexicon, lexicon_mode, pattern, alternatives,
                                                    reject_threshold), Page, deadline_ms)

    def recognize_pages(self, images: Iterable[_images.ImageLike], *, errors: BatchErrors = "raise",
                        beam_width: Optional[int] = None, lexicon: Optional[Iterable[str]] = None, lexicon_mode: Optional[str] = None,
                        charset: Optional[str] = None, pattern: Optional[str] = None,
                        alternatives: Optional[int] = None,
                        reject_threshold: float = 0.0, deadline_ms: int = 0) -> Sequence[Union[Page, HwrError]]:
        """Reads many pages in one request (``RecognizeBatch``): as
        :meth:`hwr.Engine.recognize_pages`, by the worker."""
        return self._many(images, _MODE_PAGE,
                          lambda o: _line_options(o, charset, beam_width, lexicon, lexicon_mode, pattern, alternatives,
                                                  reject_threshold), Page, deadline_ms, errors)

    def _line_batch(self, images: Iterable[_images.ImageLike], auto: bool, charset: Optional[str],
                    beam_width: Optional[int], lexicon: Optional[Iterable[str]], lexicon_mode: Optional[str], pattern: Optional[str],
                    alternatives: Optional[int], reject_threshold: float, deadline_ms: int,
                    errors: BatchErrors) -> Sequence[Union[LineResult, HwrError]]:
        return self._many(images, _MODE_AUTO if auto else _MODE_LINE,
                          lambda o: _line_options(o, charset, beam_width, lexicon, lexicon_mode, pattern, alternatives,
                                                  reject_threshold), LineResult, deadline_ms, errors)
