"""hwr.Client: the ZeroMQ client of `hwr worker` (proto/hwr.proto).

Two groups of tests:

* against a fake worker (a ROUTER socket in a thread of this process, answering canned replies):
  the request encoding, the mapping of statuses to exceptions, and the timeout / retry / stray
  reply rules, which a real worker cannot be made to exercise on demand;
* against a live worker: ``hwr-cli worker`` started on a free loopback port for the session
  (``HWR_CLI`` names the binary, else the checkout's ``.build/release/hwr-cli``). These are skipped,
  with the reason, when that binary has no ``worker`` subcommand.

Needs pyzmq and protobuf (``pip install 'hwr[client]'``); skipped without them.
"""

from __future__ import annotations

import builtins
import csv
import io
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np
import pytest
from PIL import Image

zmq = pytest.importorskip("zmq", reason="pyzmq is not installed (pip install 'hwr[client]')")
pytest.importorskip("google.protobuf", reason="protobuf is not installed (pip install 'hwr[client]')")

import hwr  # noqa: E402
from hwr._proto import hwr_pb2 as pb  # noqa: E402
from hwr.client import DEFAULT_MAX_MESSAGE_BYTES  # noqa: E402
from conftest import CHECKOUT  # noqa: E402

FORMATS = CHECKOUT / "Tests" / "Fixtures" / "formats"
LINES = CHECKOUT / "Tests" / "Fixtures" / "lines"
K_JPG = FORMATS / "K.jpg"
PACKAGE_DIR = str(pathlib.Path(hwr.__file__).resolve().parent.parent)


def _words() -> List[Tuple[pathlib.Path, str]]:
    with open(LINES / "manifest.csv", newline="", encoding="utf-8") as f:
        return [(LINES / row["path"], row["text"]) for row in csv.DictReader(f)
                if row["path"].startswith("word-")]


# ==== a fake worker ==============================================================================

Handler = Callable[[List[bytes], "pb.Request", int], List[Tuple[float, List[bytes]]]]


class FakeWorker:
    """A ROUTER on a free loopback port, served by a thread. For each request, ``handler(frames,
    request, n)`` (``n``: requests received so far, from 1; ``request`` is ``None`` when the body
    does not parse) returns the messages to send: ``(delay_s, frames)`` pairs, sent in order after
    their delay (measured from the request's arrival). Everything received is kept in
    ``received`` as ``(frames, request)``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.context = zmq.Context.instance()
        self.sock = self.context.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        port = self.sock.bind_to_random_port("tcp://127.0.0.1")
        self.endpoint = f"tcp://127.0.0.1:{port}"
        self.received: List[Tuple[List[bytes], Optional[pb.Request]]] = []
        self._pending: List[Tuple[float, List[bytes]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        while not self._stop.is_set():
            now = time.monotonic()
            due = [p for p in self._pending if p[0] <= now]
            self._pending = [p for p in self._pending if p[0] > now]
            for _, frames in sorted(due, key=lambda p: p[0]):
                self.sock.send_multipart(frames)
            if not dict(poller.poll(10)):
                continue
            frames = self.sock.recv_multipart()
            try:
                request: Optional[pb.Request] = pb.Request.FromString(frames[-1])
            except Exception:  # noqa: BLE001
                request = None
            self.received.append((frames, request))
            for delay, out in self.handler(frames, request, len(self.received)):
                self._pending.append((time.monotonic() + delay, out))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close(linger=0)


def reply_frames(frames: List[bytes], reply: "pb.Reply") -> List[bytes]:
    """The routing frames of a request, then the serialized reply."""
    return frames[:-1] + [reply.SerializeToString()]


def ok_recognize(request: "pb.Request", text: str = "K", confidence: float = 0.9) -> "pb.Reply":
    reply = pb.Reply(protocol_version=1, request_id=request.request_id, status=pb.OK, server_time_ms=0.25)
    r = reply.recognize.result
    r.text, r.confidence = text, confidence
    r.chars.add(text=text, p=confidence)
    r.alternatives.add(text=text, score=confidence)
    r.alternatives.add(text="X", score=0.05)
    reply.recognize.model_name = "fake"
    return reply


def answer_ok(frames: List[bytes], request: Optional["pb.Request"], n: int) -> List[Tuple[float, List[bytes]]]:
    assert request is not None
    if request.WhichOneof("method") == "health":
        reply = pb.Reply(protocol_version=1, request_id=request.request_id)
        reply.health.serving = True
        return [(0.0, reply_frames(frames, reply))]
    return [(0.0, reply_frames(frames, ok_recognize(request)))]


@pytest.fixture
def fake() -> Iterator[Callable[[Handler], FakeWorker]]:
    workers: List[FakeWorker] = []

    def make(handler: Handler) -> FakeWorker:
        w = FakeWorker(handler)
        workers.append(w)
        return w

    yield make
    for w in workers:
        w.close()


# ==== without a worker: packaging, encoding, errors, timeouts =====================================

def test_import_hwr_without_pyzmq_and_protobuf() -> None:
    code = textwrap.dedent("""
        import sys
        sys.modules["zmq"] = None              # makes `import zmq` fail
        sys.modules["google.protobuf"] = None
        import hwr
        assert hwr.Client and hwr.TimeoutError
        try:
            hwr.Client("tcp://127.0.0.1:5555")
        except ImportError as e:
            print("IMPORT-ERROR", e)
    """)
    r = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": PACKAGE_DIR},
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "IMPORT-ERROR" in r.stdout and "hwr[client]" in r.stdout


def test_generated_code_is_a_subpackage_module() -> None:
    assert pb.Request.__module__ == "hwr._proto.hwr_pb2"
    assert pb.DESCRIPTOR.package == "hwr.v1"
    assert pb.Request.DESCRIPTOR.full_name == "hwr.v1.Request"
    # the client's copies of the wire enums agree with the generated code
    from hwr import client
    for name, value in pb.StatusCode.items():
        assert client._STATUS_NAMES[value] == name
    assert (client._ENCODING_AUTO, client._ENCODING_PNG, client._ENCODING_GRAY8) == (pb.ENCODING_AUTO, pb.PNG, pb.GRAY8)
    assert (client._MODE_CHAR, client._MODE_LINE, client._MODE_AUTO) == (pb.MODE_CHAR, pb.MODE_LINE, pb.MODE_AUTO)


def test_errors_hierarchy() -> None:
    for cls, status in ((hwr.OverloadedError, 105), (hwr.WrongVersionError, 107), (hwr.ShuttingDownError, 108),
                        (hwr.TimeoutError, 110)):
        assert issubclass(cls, hwr.HwrError) and cls.STATUS == status
    assert issubclass(hwr.TimeoutError, builtins.TimeoutError)
    assert "TimeoutError" not in hwr.__all__  # `from hwr import *` must not shadow the built-in


def test_bad_constructor_arguments() -> None:
    with pytest.raises(hwr.InvalidArgumentError):
        hwr.Client("nonsense://nowhere")
    with pytest.raises(hwr.InvalidArgumentError):
        hwr.Client("tcp://127.0.0.1:5555", timeout=0)
    with pytest.raises(hwr.InvalidArgumentError):
        hwr.Client("tcp://127.0.0.1:5555", retries=-1)
    with pytest.raises(hwr.InvalidArgumentError):
        hwr.Client("tcp://127.0.0.1:5555", max_message_bytes=0)
    with pytest.raises(TypeError):
        hwr.Client("tcp://127.0.0.1:5555", timeout="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        hwr.Client(5555)  # type: ignore[arg-type]


def test_a_request_over_the_message_limit_is_refused_before_sending(fake: Callable[[Handler], FakeWorker]) -> None:
    w = fake(answer_ok)
    image = K_JPG.read_bytes()
    with hwr.Client(w.endpoint, timeout=5, retries=0, max_message_bytes=len(image)) as c:
        with pytest.raises(hwr.ImageTooLargeError, match="not sent") as info:
            c.recognize_char(image)
        assert info.value.wire_status is None and info.value.request_id
        with pytest.raises(hwr.ImageTooLargeError):
            c.recognize_batch([image, image])
        assert w.received == []  # nothing reached the worker
        assert c.recognize_char(image[:len(image) // 2]).text == "K"  # a smaller request is sent


def test_the_default_message_limit_is_the_workers() -> None:
    exe, why = _worker_binary()
    if exe is None:
        pytest.skip(why)
    help_text = subprocess.run([exe, "worker", "--help"], capture_output=True, text=True, timeout=60).stdout
    match = re.search(r"Largest request, bytes \(default (\d+)\)", " ".join(help_text.split()))
    assert match, help_text
    assert int(match.group(1)) == DEFAULT_MAX_MESSAGE_BYTES


def test_deadline_ms_is_sent_with_the_request(fake: Callable[[Handler], FakeWorker]) -> None:
    w = fake(answer_ok)
    with hwr.Client(w.endpoint, timeout=5, retries=0) as c:
        c.recognize_char(K_JPG, deadline_ms=250)
        c.recognize_line(K_JPG, deadline_ms=300)
        c.recognize_char(K_JPG)
        with pytest.raises(hwr.InvalidArgumentError):
            c.recognize_char(K_JPG, deadline_ms=-1)
        with pytest.raises(TypeError):
            c.recognize_char(K_JPG, deadline_ms=0.5)  # type: ignore[arg-type]
    assert [req.deadline_ms for _, req in w.received] == [250, 300, 0]


def test_request_encoding(fake: Callable[[Handler], FakeWorker]) -> None:
    w = fake(answer_ok)
    grey = np.full((20, 30), 255, np.uint8)
    grey[5:15, 10:20] = 0
    rgb = np.stack([grey] * 3, axis=2)
    with hwr.Client(w.endpoint, timeout=5) as c:
        r = c.recognize_char(K_JPG, top_k=3, charset="KX", reject_threshold=0.25)
        assert r == hwr.CharResult("K", pytest.approx(0.9), (hwr.Candidate("K", pytest.approx(0.9)),
                                                            hwr.Candidate("X", pytest.approx(0.05))),
                                   (hwr.Candidate("K", pytest.approx(0.9)),), False)
        assert c.last_server_time_ms == 0.25
        c.recognize_char(K_JPG.read_bytes())
        c.recognize_char(bytearray(b"\x89PNG..."))
        c.recognize_char(grey)
        c.recognize_char(grey[:, :, None])
        c.recognize_char(rgb)
        c.recognize_char(Image.fromarray(grey))
        c.recognize_char(Image.fromarray(grey).convert("1"))
        c.recognize_char(Image.fromarray(rgb))
        line = c.recognize_line(grey[:, ::-1], "AB", auto=True, beam_width=3, lexicon=("AB", "BA"),
                                pattern=r"\a{2}", alternatives=2)
        assert isinstance(line, hwr.LineResult) and line.text == "K"
    reqs = [req for _, req in w.received]
    assert all(req is not None and req.protocol_version == 1 for req in reqs)
    ids = [req.request_id for req in reqs]
    assert len(set(ids)) == len(ids) and all(ids)
    first = reqs[0].recognize
    assert first.mode == pb.MODE_CHAR and first.image.encoding == pb.ENCODING_AUTO
    assert first.image.data == K_JPG.read_bytes()
    assert (first.options.top_k, first.options.charset) == (3, "KX")
    assert first.options.reject_threshold == pytest.approx(0.25)
    assert reqs[1].recognize.options.top_k == 5  # the Engine's default, sent explicitly
    assert reqs[2].recognize.image.data == b"\x89PNG..."
    for req in (reqs[3], reqs[4], reqs[6]):
        img = req.recognize.image
        assert (img.encoding, img.width, img.height) == (pb.GRAY8, 30, 20)
        assert img.data == grey.tobytes()
    assert reqs[7].recognize.image.encoding == pb.GRAY8  # mode '1' is sent as grey
    for req in (reqs[5], reqs[8]):  # colour: PNG, decoded back to the same pixels
        img = req.recognize.image
        assert img.encoding == pb.PNG and img.width == 0
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(img.data)).convert("L")), grey)
    last = reqs[9].recognize
    assert last.mode == pb.MODE_AUTO
    assert np.array_equal(np.frombuffer(last.image.data, np.uint8).reshape(20, 30), grey[:, ::-1])
    o = last.options
    assert (o.charset, o.beam_width, list(o.lexicon), o.pattern, o.alternatives) == ("AB", 3, ["AB", "BA"], r"\a{2}", 2)


@pytest.mark.parametrize("call", [
    lambda c: c.recognize_char(K_JPG, top_k=0),
    lambda c: c.recognize_char(K_JPG, charset=""),
    lambda c: c.recognize_char(K_JPG, reject_threshold=1.5),
    lambda c: c.recognize_char(K_JPG, reject_threshold=float("nan")),
    lambda c: c.recognize_char(np.zeros((4, 4), np.float32)),
    lambda c: c.recognize_char(np.zeros((4, 4, 2), np.uint8)),
    lambda c: c.recognize_line(K_JPG, beam_width=0),
    lambda c: c.recognize_line(K_JPG, alternatives=0),
    lambda c: c.recognize_line(K_JPG, pattern=""),
    lambda c: c.recognize_line(K_JPG, lexicon=[]),
    lambda c: c.recognize_line(K_JPG, charset="a\0b"),
    lambda c: c.recognize_batch([K_JPG], errors="ignore"),
    lambda c: c.recognize_batch([K_JPG, np.zeros((4, 4), np.int16)]),
])
def test_argument_errors_are_raised_before_sending(fake: Callable[[Handler], FakeWorker], call: Any) -> None:
    w = fake(answer_ok)
    with hwr.Client(w.endpoint, timeout=5) as c:
        with pytest.raises(hwr.InvalidArgumentError) as info:
            call(c)
        assert info.value.wire_status is None
        assert c.health()  # the client still works
    assert [req.WhichOneof("method") for _, req in w.received] == ["health"]


@pytest.mark.parametrize("call", [
    lambda c: c.recognize_char(12),
    lambda c: c.recognize_char(K_JPG, top_k="3"),
    lambda c: c.recognize_char(K_JPG, top_k=True),
    lambda c: c.recognize_line(K_JPG, lexicon="ABC"),
    lambda c: c.recognize_line(K_JPG, beam_width=2.0),
    lambda c: c.recognize_line(K_JPG, pattern=5),
    lambda c: c.recognize_batch([K_JPG, object()]),
])
def test_type_errors_are_raised_before_sending(fake: Callable[[Handler], FakeWorker], call: Any) -> None:
    w = fake(answer_ok)
    with hwr.Client(w.endpoint, timeout=5) as c:
        with pytest.raises(TypeError):
            call(c)
    assert w.received == []


def test_unreadable_path_is_an_io_error(fake: Callable[[Handler], FakeWorker], tmp_path: pathlib.Path) -> None:
    w = fake(answer_ok)
    with hwr.Client(w.endpoint, timeout=5) as c:
        with pytest.raises(hwr.HwrIOError):
            c.recognize_char(tmp_path / "missing.png")
    assert w.received == []


@pytest.mark.parametrize("status, cls", [
    (pb.BAD_REQUEST, hwr.InvalidArgumentError), (pb.UNSUPPORTED, hwr.UnsupportedError),
    (pb.IMAGE_TOO_LARGE, hwr.ImageTooLargeError), (pb.DECODE_FAILURE, hwr.ImageDecodeError),
    (pb.INTERNAL, hwr.InternalError), (pb.WRONG_VERSION, hwr.WrongVersionError),
    (pb.OVERLOADED, hwr.OverloadedError), (pb.SHUTTING_DOWN, hwr.ShuttingDownError),
    (pb.DEADLINE_EXCEEDED, hwr.DeadlineExceededError),
    (42, hwr.InternalError),  # a status of a newer protocol is a failure, not OK
])
def test_reply_status_maps_to_exception(fake: Callable[[Handler], FakeWorker], status: int, cls: type) -> None:
    def handler(frames: List[bytes], request: Any, n: int) -> List[Tuple[float, List[bytes]]]:
        return [(0.0, reply_frames(frames, pb.Reply(protocol_version=1, request_id=request.request_id,
                                                    status=status, message=f"failure {status}")))]

    w = fake(handler)
    with hwr.Client(w.endpoint, timeout=5, retries=1, backoff=0.01) as c:
        with pytest.raises(cls) as info:
            c.recognize_char(K_JPG)
    e = info.value
    assert type(e) is cls and e.wire_status == status and e.status == cls.STATUS
    assert f"failure {status}" in e.message
    assert e.request_id == w.received[0][1].request_id
    retried = status in (pb.OVERLOADED, pb.SHUTTING_DOWN)
    assert len(w.received) == (2 if retried else 1)
    assert len({req.request_id for _, req in w.received}) == 1  # a retry is the same request


def test_overloaded_then_ok_is_retried(fake: Callable[[Handler], FakeWorker]) -> None:
    def handler(frames: List[bytes], request: Any, n: int) -> List[Tuple[float, List[bytes]]]:
        if n == 1:
            return [(0.0, reply_frames(frames, pb.Reply(protocol_version=1, request_id=request.request_id,
                                                        status=pb.OVERLOADED)))]
        return answer_ok(frames, request, n)

    w = fake(handler)
    with hwr.Client(w.endpoint, timeout=5, retries=1, backoff=0.01) as c:
        assert c.recognize_char(K_JPG).text == "K"
    assert len(w.received) == 2


def test_reply_of_another_method_is_an_internal_error(fake: Callable[[Handler], FakeWorker]) -> None:
    w = fake(lambda frames, request, n: answer_ok(frames, pb.Request(request_id=request.request_id,
                                                                     health=pb.HealthRequest()), n))
    with hwr.Client(w.endpoint, timeout=5) as c:
        with pytest.raises(hwr.InternalError, match="health"):
            c.recognize_char(K_JPG)


def test_timeout_after_retries_against_a_silent_socket(fake: Callable[[Handler], FakeWorker]) -> None:
    w = fake(lambda frames, request, n: [])  # never answers
    with hwr.Client(w.endpoint, timeout=0.3, retries=2) as c:
        start = time.monotonic()
        with pytest.raises(hwr.TimeoutError) as info:
            c.recognize_char(K_JPG)
        elapsed = time.monotonic() - start
    e = info.value
    assert isinstance(e, hwr.HwrError) and isinstance(e, builtins.TimeoutError)
    assert e.wire_status is None and e.request_id and e.request_id in e.message
    assert 0.85 <= elapsed < 5, elapsed
    deadline = time.monotonic() + 2
    while len(w.received) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(w.received) == 3  # 1 + retries attempts
    assert {req.request_id for _, req in w.received} == {e.request_id}
    # each attempt came from a new socket (the timed-out one was closed): new routing identities
    assert len({frames[0] for frames, _ in w.received}) == 3


def test_a_retry_after_a_timeout_gets_the_answer(fake: Callable[[Handler], FakeWorker]) -> None:
    def handler(frames: List[bytes], request: Any, n: int) -> List[Tuple[float, List[bytes]]]:
        return [] if n == 1 else answer_ok(frames, request, n)

    w = fake(handler)
    with hwr.Client(w.endpoint, timeout=0.3, retries=1) as c:
        assert c.recognize_char(K_JPG).text == "K"
    assert len(w.received) == 2


def test_stray_and_garbage_replies_are_discarded(fake: Callable[[Handler], FakeWorker]) -> None:
    def handler(frames: List[bytes], request: Any, n: int) -> List[Tuple[float, List[bytes]]]:
        stray = ok_recognize(pb.Request(request_id="someone-else"), text="S")
        no_id_ok = ok_recognize(pb.Request(request_id=""), text="E")  # an OK reply must name its request
        return [(0.0, reply_frames(frames, stray)), (0.0, frames[:-1] + [b"\xff\xff\xff garbage"]),
                (0.0, reply_frames(frames, no_id_ok)), (0.0, reply_frames(frames, ok_recognize(request)))]

    w = fake(handler)
    with hwr.Client(w.endpoint, timeout=5) as c:
        assert c.recognize_char(K_JPG).text == "K"
        assert c.discarded_replies == 3


def test_error_reply_without_request_id_is_the_answer(fake: Callable[[Handler], FakeWorker]) -> None:
    """The worker answers a request it cannot read with request_id "": on one socket that can only
    be the request in flight, so it is raised at once instead of waiting for the timeout."""
    def handler(frames: List[bytes], request: Any, n: int) -> List[Tuple[float, List[bytes]]]:
        unread = pb.Reply(protocol_version=1, request_id="", status=pb.IMAGE_TOO_LARGE, message="too big")
        return [(0.0, reply_frames(frames, unread))]

    w = fake(handler)
    with hwr.Client(w.endpoint, timeout=5, retries=2) as c:
        with pytest.raises(hwr.ImageTooLargeError, match="too big") as info:
            c.recognize_char(K_JPG)
    assert info.value.wire_status == pb.IMAGE_TOO_LARGE and info.value.request_id
    assert len(w.received) == 1


def test_late_reply_of_a_timed_out_request_is_not_returned_later(fake: Callable[[Handler], FakeWorker]) -> None:
    """Request 1 times out; its reply arrives late, on the connection of request 2, before request
    2's own reply: the caller of request 2 must get request 2's answer."""
    late: Dict[str, Any] = {}

    def handler(frames: List[bytes], request: Any, n: int) -> List[Tuple[float, List[bytes]]]:
        if n == 1:
            late["reply"] = ok_recognize(request, text="1")
            return []
        out = [(0.0, reply_frames(frames, late["reply"]))]  # the stale answer, to the new socket
        return out + [(0.05, reply_frames(frames, ok_recognize(request, text="2")))]

    w = fake(handler)
    with hwr.Client(w.endpoint, timeout=0.3, retries=0) as c:
        with pytest.raises(hwr.TimeoutError):
            c.recognize_char(K_JPG)
        assert c.recognize_char(K_JPG).text == "2"
        assert c.discarded_replies == 1


def test_batch_item_errors(fake: Callable[[Handler], FakeWorker], tmp_path: pathlib.Path) -> None:
    def handler(frames: List[bytes], request: Any, n: int) -> List[Tuple[float, List[bytes]]]:
        reply = pb.Reply(protocol_version=1, request_id=request.request_id)
        for img in request.recognize_batch.images:
            if img.data.startswith(b"bad"):
                reply.recognize_batch.results.add(status=pb.DECODE_FAILURE, message="cannot decode")
            else:
                reply.recognize_batch.results.add(text="K", confidence=0.5)
        return [(0.0, reply_frames(frames, reply))]

    w = fake(handler)
    images = [b"good", tmp_path / "missing.png", b"bad", b"good"]
    with hwr.Client(w.endpoint, timeout=5) as c:
        out = c.recognize_batch(images, errors="return")
        assert [type(x) for x in out] == [hwr.CharResult, hwr.HwrIOError, hwr.ImageDecodeError, hwr.CharResult]
        assert out[1].index == 1 and out[2].index == 2 and out[2].wire_status == pb.DECODE_FAILURE
        with pytest.raises(hwr.HwrIOError) as info:
            c.recognize_batch(images)
        assert info.value.index == 1 and len(info.value.results) == 4
        assert c.recognize_batch([]) == []
        lines = c.recognize_lines([b"good"], lexicon=["K"])
        assert isinstance(lines[0], hwr.LineResult)
    sent = [req.recognize_batch for _, req in w.received]
    assert [len(b.images) for b in sent] == [3, 3, 1]  # the unreadable path is not sent
    assert sent[2].mode == pb.MODE_LINE and list(sent[2].options.lexicon) == ["K"]


def test_shared_client_across_threads(fake: Callable[[Handler], FakeWorker]) -> None:
    def handler(frames: List[bytes], request: Any, n: int) -> List[Tuple[float, List[bytes]]]:
        return [(0.0, reply_frames(frames, ok_recognize(request, text=request.recognize.options.charset)))]

    w = fake(handler)
    errors: List[BaseException] = []
    with hwr.Client(w.endpoint, timeout=5) as c:
        def run(letter: str) -> None:
            try:
                for _ in range(20):
                    assert c.recognize_char(b"x", charset=letter).text == letter
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=run, args=(ch,)) for ch in "ABCDEF"]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors[0]
    assert len(w.received) == 120


def test_closed_client() -> None:
    c = hwr.Client("tcp://127.0.0.1:9", timeout=0.1, retries=0)
    assert not c.closed
    c.close()
    c.close()
    assert c.closed
    with pytest.raises(hwr.InvalidArgumentError, match="closed"):
        c.health()


# ==== against a live worker =======================================================================

def _worker_binary() -> Tuple[Optional[str], str]:
    """The hwr-cli binary with a `worker` subcommand, or None and why not."""
    exe = os.environ.get("HWR_CLI") or str(CHECKOUT / ".build" / "release" / "hwr-cli")
    if not os.path.isfile(exe):
        return None, f"{exe} not found (swift build -c release --product hwr-cli, or set HWR_CLI)"
    try:
        r = subprocess.run([exe, "worker", "--help"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"{exe} worker --help failed: {e}"
    if r.returncode != 0 or "--bind" not in r.stdout + r.stderr:
        return None, f"{exe} has no `worker` subcommand (rebuild it: swift build -c release)"
    return exe, ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveWorker:
    """``hwr-cli worker --bind tcp://127.0.0.1:FREE --metrics-port FREE EXTRA...`` (``broker``:
    ``hwr-cli broker`` on two free ports and ``hwr-cli worker --connect BACKEND EXTRA...`` instead;
    ``endpoint`` is then the broker's frontend)."""

    def __init__(self, exe: str, log: pathlib.Path, extra: List[str], broker: bool = False) -> None:
        self.log_path = log
        self.procs: List[subprocess.Popen] = []
        last = ""
        for _ in range(3):  # another process may take a free port before the worker binds it
            self.endpoint = f"tcp://127.0.0.1:{_free_port()}"
            self.metrics_port = _free_port()
            with open(log, "wb") as out:
                if broker:
                    backend = f"tcp://127.0.0.1:{_free_port()}"
                    self.procs.append(subprocess.Popen(
                        [exe, "broker", "--frontend", self.endpoint, "--backend", backend], cwd=str(CHECKOUT),
                        stdout=out, stderr=subprocess.STDOUT))
                    args = ["--connect", backend]
                else:
                    args = ["--bind", self.endpoint, "--metrics-port", str(self.metrics_port)]
                self.procs.append(subprocess.Popen([exe, "worker", *args, *extra], cwd=str(CHECKOUT),
                                                   stdout=out, stderr=subprocess.STDOUT))
            self.proc = self.procs[-1]
            if self._wait_ready(90):
                return
            last = self.log()
            self.stop()
        pytest.fail(f"the worker did not come up; its output:\n{last}")

    def _wait_ready(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        with hwr.Client(self.endpoint, timeout=0.5, retries=0) as c:
            while time.monotonic() < deadline:
                if any(p.poll() is not None for p in self.procs):
                    return False
                try:
                    if c.health():
                        return True
                except hwr.TimeoutError:
                    pass
        return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> Optional[int]:
        """Stops the processes (SIGTERM, the worker first); the worker's exit status."""
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(10)
        self.procs = []
        return self.proc.returncode


@pytest.fixture(scope="session")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveWorker]:
    exe, why = _worker_binary()
    if exe is None:
        pytest.skip(why)
    w = LiveWorker(exe, tmp_path_factory.mktemp("worker") / "worker.log", ["--threads", "2"])
    yield w
    assert w.stop() == 0, w.log()  # SIGTERM: a graceful stop


@pytest.fixture
def client(worker: LiveWorker) -> Iterator[hwr.Client]:
    with hwr.Client(worker.endpoint, timeout=20, retries=1) as c:
        yield c


@pytest.fixture
def raw(worker: LiveWorker) -> Iterator[Callable[..., List[bytes]]]:
    """Sends frames on a raw socket (DEALER by default) and returns the reply's frames."""
    sockets: List[Any] = []

    def send(frames: List[bytes], kind: int = zmq.DEALER, timeout_ms: int = 20000) -> List[bytes]:
        s = zmq.Context.instance().socket(kind)
        s.setsockopt(zmq.LINGER, 0)
        sockets.append(s)
        s.connect(worker.endpoint)
        s.send_multipart(frames)
        assert s.poll(timeout_ms), f"no reply to {frames!r}; worker output:\n{worker.log()}"
        return s.recv_multipart()

    yield send
    for s in sockets:
        s.close(linger=0)


def test_live_char(client: hwr.Client) -> None:
    r = client.recognize_char(K_JPG, top_k=3)
    assert isinstance(r, hwr.CharResult) and r.text == "K" and not r.rejected
    assert 0 < r.confidence <= 1
    assert len(r.candidates) == 3 and r.candidates[0] == hwr.Candidate("K", r.confidence)
    assert [c.probability for c in r.candidates] == sorted((c.probability for c in r.candidates), reverse=True)
    assert r.chars == (hwr.Candidate("K", r.confidence),)
    assert client.last_server_time_ms is not None and client.last_server_time_ms > 0
    # every input type reads the same
    grey = np.asarray(Image.open(K_JPG).convert("L"))
    for image in (K_JPG.read_bytes(), str(K_JPG), grey, Image.open(K_JPG), Image.open(K_JPG).convert("RGB"),
                  FORMATS / "K.pgm", FORMATS / "K-transparent.png"):
        assert client.recognize_char(image).text == "K", image
    assert client.recognize_char(K_JPG, charset="0123456789").text in "0123456789"
    assert client.recognize_char(K_JPG, reject_threshold=1.0).rejected


def test_live_request_over_the_transport_cap_is_refused_at_once(client: hwr.Client) -> None:
    # 40 MiB, over the worker's 8 MiB limit: refused before sending (it used to end in a timeout).
    started = time.monotonic()
    with pytest.raises(hwr.ImageTooLargeError, match="not sent"):
        client.recognize_char(b"\x89PNG" + bytes(40 << 20))
    assert time.monotonic() - started < 5
    assert client.recognize_char(K_JPG).text == "K"


def test_live_deadline_stops_a_slow_decoding(client: hwr.Client) -> None:
    wide = CHECKOUT / "Tests" / "Fixtures" / "worker" / "wide-line.png"
    slow = dict(pattern=".{64}.{64}", beam_width=1000, alternatives=100)
    started = time.monotonic()
    with pytest.raises(hwr.DeadlineExceededError) as info:
        client.recognize_line(wide, deadline_ms=300, **slow)
    assert info.value.wire_status == pb.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 3
    items = client.recognize_lines([wide, wide], deadline_ms=300, errors="return", **slow)
    assert [type(i) for i in items] == [hwr.DeadlineExceededError, hwr.DeadlineExceededError]
    assert client.recognize_char(K_JPG, deadline_ms=10_000).text == "K"


def test_live_char_agrees_with_the_engine(client: hwr.Client) -> None:
    try:
        engine = hwr.Engine()
    except (hwr.LibraryLoadError, hwr.HwrError) as e:
        pytest.skip(f"no local engine to compare with: {e}")
    with engine:
        for image in (K_JPG, FORMATS / "K-inverted.png", FORMATS / "K-large.png"):
            assert client.recognize_char(image).text == engine.recognize_char(image).text


def test_live_line_with_lexicon(client: hwr.Client) -> None:
    words = _words()
    assert len(words) >= 4
    lexicon = [text for _, text in words[:8]]
    for path, text in words[:4]:
        r = client.recognize_line(path, lexicon=lexicon, alternatives=3)
        assert isinstance(r, hwr.LineResult)
        assert r.text == text, (path, r)
        assert {c.text for c in r.candidates} <= set(lexicon)
        assert len(r.chars) == len(r.text)
    free = client.recognize_line(words[0][0])
    assert free.text and all(0 <= c.probability <= 1 for c in free.chars)
    with pytest.raises(hwr.InvalidArgumentError):  # the worker refuses a bad pattern: BAD_REQUEST
        client.recognize_line(words[0][0], pattern="[A-")


def test_live_lines_batch(client: hwr.Client) -> None:
    words = _words()[:3]
    lexicon = [text for _, text in _words()[:8]]
    out = client.recognize_lines([p for p, _ in words], lexicon=lexicon)
    assert [r.text for r in out] == [t for _, t in words]


def test_live_batch_with_a_bad_image(client: hwr.Client) -> None:
    images = [K_JPG, b"this is not an image", FORMATS / "K.pgm", np.full((32, 32), 255, np.uint8)]
    out = client.recognize_batch(images, errors="return")
    assert isinstance(out[0], hwr.CharResult) and out[0].text == "K"
    assert isinstance(out[1], hwr.ImageDecodeError) and out[1].index == 1 and out[1].message
    assert out[1].wire_status == pb.DECODE_FAILURE
    assert isinstance(out[2], hwr.CharResult) and out[2].text == "K"
    assert isinstance(out[3], hwr.ImageDecodeError) and out[3].index == 3  # blank: DECODE_FAILURE on the wire
    with pytest.raises(hwr.ImageDecodeError) as info:
        client.recognize_batch(images)
    assert info.value.index == 1 and [type(r) for r in info.value.results] == [type(r) for r in out]
    single = [client.recognize_char(K_JPG), client.recognize_char(FORMATS / "K.pgm")]
    for b, s in zip((out[0], out[2]), single):  # a batch reads as single calls do (up to rounding:
        assert b.text == s.text                  # batched and single products differ in the last bits)
        assert b.confidence == pytest.approx(s.confidence, abs=1e-4)


def test_live_single_bad_images(client: hwr.Client) -> None:
    with pytest.raises(hwr.ImageDecodeError) as info:
        client.recognize_char(b"garbage")
    assert info.value.wire_status == pb.DECODE_FAILURE and info.value.request_id
    with pytest.raises(hwr.ImageDecodeError):
        client.recognize_char(np.zeros((0, 5), np.uint8))
    with pytest.raises(hwr.ImageTooLargeError):  # 9 MB: over the default 8 MiB message limit
        client.recognize_char(np.full((3000, 3000), 255, np.uint8))
    assert client.health()


def test_live_model_info_and_health(client: hwr.Client) -> None:
    assert client.health() is True
    before = client.model_info()
    client.recognize_char(K_JPG)
    info = client.model_info()
    assert info.model_name and info.model_version
    assert "K" in info.charset and info.line_model
    assert info.precisions["char"] == "fp32" and set(info.precisions) <= {"char", "line", "text"}
    assert info.abi_version == hwr.ABI_VERSION
    assert info.library_version.count(".") == 2
    assert info.max_message_bytes > 0 and info.max_pixels > 0 and info.max_batch > 0
    assert info.stats.requests >= before.stats.requests + 2
    assert info.stats.uptime_s >= before.stats.uptime_s
    try:
        assert info.library_version == hwr.version()
    except hwr.LibraryLoadError:
        pass


def test_live_garbage_gets_bad_request_and_the_worker_keeps_serving(
        raw: Callable[..., List[bytes]], client: hwr.Client) -> None:
    for body in (b"\xff\xff\xff\xff not protobuf", b"\x0a\xff\xff\xff\xff\x0f", b""):
        frames = raw([body])
        assert len(frames) == 1
        reply = pb.Reply.FromString(frames[0])
        assert reply.status == pb.BAD_REQUEST and reply.request_id == "" and reply.message, (body, reply)
        assert reply.WhichOneof("method") is None
    # parsable, but no method: BAD_REQUEST with the request_id echoed
    reply = pb.Reply.FromString(raw([pb.Request(protocol_version=1, request_id="no-method").SerializeToString()])[0])
    assert (reply.status, reply.request_id) == (pb.BAD_REQUEST, "no-method")
    # GRAY8 whose size does not match its bytes
    req = pb.Request(protocol_version=1, request_id="bad-gray")
    req.recognize.image.CopyFrom(pb.Image(encoding=pb.GRAY8, width=10, height=10, data=b"\0" * 99))
    reply = pb.Reply.FromString(raw([req.SerializeToString()])[0])
    assert (reply.status, reply.request_id) == (pb.BAD_REQUEST, "bad-gray")
    assert client.health() and client.recognize_char(K_JPG).text == "K"


def test_live_wrong_version(raw: Callable[..., List[bytes]]) -> None:
    for version in (0, 2, 1000):
        req = pb.Request(protocol_version=version, request_id=f"v{version}", health=pb.HealthRequest())
        reply = pb.Reply.FromString(raw([req.SerializeToString()])[0])
        assert (reply.status, reply.request_id) == (pb.WRONG_VERSION, f"v{version}"), reply
        assert reply.protocol_version == 1 and reply.message


def test_live_routing_frames_are_echoed(raw: Callable[..., List[bytes]]) -> None:
    body = pb.Request(protocol_version=1, request_id="hops", health=pb.HealthRequest()).SerializeToString()
    frames = raw([b"hop-1", b"hop-2", b"", body])
    assert frames[:3] == [b"hop-1", b"hop-2", b""]
    reply = pb.Reply.FromString(frames[3])
    assert reply.request_id == "hops" and reply.health.serving
    # a REQ socket (it adds the empty delimiter frame itself)
    reply = pb.Reply.FromString(raw([body], kind=zmq.REQ)[0])
    assert reply.request_id == "hops" and reply.status == pb.OK


def test_live_concurrent_clients(worker: LiveWorker) -> None:
    words = _words()
    errors: List[BaseException] = []
    counts = [0] * 8

    def run(i: int) -> None:
        try:
            with hwr.Client(worker.endpoint, timeout=30, retries=0) as c:
                for k in range(15):
                    if (i + k) % 5 == 0:
                        path, text = words[k % 4]
                        assert c.recognize_line(path, lexicon=[t for _, t in words[:8]]).text == text
                    else:
                        assert c.recognize_char(K_JPG).text == "K"
                    counts[i] += 1
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors[0]
    assert counts == [15] * 8


def test_live_shared_client_from_threads(client: hwr.Client) -> None:
    results: List[str] = []

    def run() -> None:
        for _ in range(10):
            results.append(client.recognize_char(K_JPG).text)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert results == ["K"] * 40


def test_live_metrics(worker: LiveWorker, client: hwr.Client) -> None:
    import urllib.request

    client.recognize_char(K_JPG)
    with urllib.request.urlopen(f"http://127.0.0.1:{worker.metrics_port}/metrics", timeout=20) as r:
        assert r.status == 200
        text = r.read().decode()
    assert "hwr_requests_total" in text and "hwr_request_latency_seconds" in text, text[:500]


@pytest.fixture(scope="module")
def brokered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveWorker]:
    exe, why = _worker_binary()
    if exe is None:
        pytest.skip(why)
    w = LiveWorker(exe, tmp_path_factory.mktemp("broker") / "broker.log", ["--threads", "1", "--max-batch", "2"],
                   broker=True)
    yield w
    assert w.stop() == 0, w.log()  # SIGTERM: a graceful stop


def test_live_through_a_broker_with_limits(brokered: LiveWorker) -> None:
    with hwr.Client(brokered.endpoint, timeout=20, retries=1) as c:
        assert c.recognize_char(K_JPG).text == "K"
        info = c.model_info()
        assert info.max_batch == 2
        assert [r.text for r in c.recognize_batch([K_JPG, K_JPG])] == ["K", "K"]
        with pytest.raises(hwr.ImageTooLargeError) as e:
            c.recognize_batch([K_JPG] * 3)
        assert e.value.wire_status == pb.IMAGE_TOO_LARGE and "2" in e.value.message
        assert c.health()


def test_live_pipeline(tmp_path: pathlib.Path) -> None:
    exe, why = _worker_binary()
    if exe is None:
        pytest.skip(why)
    ctx = zmq.Context.instance()
    up, down = ctx.socket(zmq.PUSH), ctx.socket(zmq.PULL)
    for s in (up, down):
        s.setsockopt(zmq.LINGER, 0)
    up_port = up.bind_to_random_port("tcp://127.0.0.1")
    down_port = down.bind_to_random_port("tcp://127.0.0.1")
    log = tmp_path / "pipeline.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([exe, "worker", "--pull", f"tcp://127.0.0.1:{up_port}",
                                 "--push", f"tcp://127.0.0.1:{down_port}", "--threads", "1"],
                                cwd=str(CHECKOUT), stdout=out, stderr=subprocess.STDOUT)
    try:
        ids = [f"pipe-{i}" for i in range(5)]
        for rid in ids:
            req = pb.Request(protocol_version=1, request_id=rid)
            req.recognize.image.data = K_JPG.read_bytes()
            assert up.poll(60000, zmq.POLLOUT), log.read_text()
            up.send(req.SerializeToString())
        up.send(b"garbage")  # a malformed request gets its reply too
        replies = []
        for _ in range(6):
            assert down.poll(60000), f"missing replies; worker output:\n{log.read_text()}"
            frames = down.recv_multipart()
            assert len(frames) == 1
            replies.append(pb.Reply.FromString(frames[0]))
        ok = sorted((r.request_id, r.recognize.result.text) for r in replies if r.request_id)
        assert ok == [(rid, "K") for rid in ids]
        assert [r.status for r in replies if not r.request_id] == [pb.BAD_REQUEST]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait(10)
        up.close(linger=0)
        down.close(linger=0)
    assert rc == 0, log.read_text()


def _png_header(width: int, height: int) -> bytes:
    """The signature and IHDR chunk of a PNG claiming width x height (no pixel data)."""
    import struct
    import zlib

    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr))


@pytest.mark.parametrize("image", [
    pb.Image(encoding=pb.GRAY8, width=0xFFFFFFFF, height=0xFFFFFFFF, data=b"x"),
    pb.Image(encoding=pb.GRAY8, width=0x10000, height=0x10000, data=b"x"),
    pb.Image(data=_png_header(0xFFFFFFFF, 0xFFFFFFFF)),
    pb.Image(data=_png_header(0x80000000, 3)),
], ids=["gray8-4G-x-4G", "gray8-64k-x-64k", "png-4G-x-4G", "png-2G-x-3"])
def test_live_hostile_dimensions_are_refused_and_the_worker_survives(
        tmp_path: pathlib.Path, image: "pb.Image") -> None:
    """Declared dimensions far beyond the limits (a few bytes of request) must get
    IMAGE_TOO_LARGE (or BAD_REQUEST / DECODE_FAILURE), never take the worker down. A worker of
    its own: a crash here must not break the other tests."""
    exe, why = _worker_binary()
    if exe is None:
        pytest.skip(why)
    w = LiveWorker(exe, tmp_path / "worker.log", ["--threads", "1"])
    try:
        req = pb.Request(protocol_version=1, request_id="hostile")
        req.recognize.image.CopyFrom(image)
        s = zmq.Context.instance().socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(w.endpoint)
        try:
            s.send(req.SerializeToString())
            deadline = time.monotonic() + 20
            while not (answered := bool(s.poll(200))) and w.proc.poll() is None and time.monotonic() < deadline:
                pass
            reply = pb.Reply.FromString(s.recv()) if answered else None
        finally:
            s.close(linger=0)
        alive = w.proc.poll() is None
        assert reply is not None and alive, (
            f"no reply (worker {'alive' if alive else f'exited with {w.proc.returncode}'}); "
            f"its output:\n{w.log()[-1500:]}")
        assert reply.request_id == "hostile"
        assert reply.status in (pb.IMAGE_TOO_LARGE, pb.BAD_REQUEST, pb.DECODE_FAILURE), reply
        with hwr.Client(w.endpoint, timeout=20) as c:
            assert c.health()
    finally:
        w.stop()


def test_live_page_has_the_engines_layout(client: hwr.Client, engine: hwr.Engine) -> None:
    """Page mode through the worker: the same text, lines, words and boxes as the C ABI gives the
    Engine in this process (issue 13: every front end returns the same layout)."""
    notes = CHECKOUT / "Tests" / "Fixtures"
    for path in (notes / "inputs" / "08-two-lines.png", notes / "notes" / "note-008.jpg"):
        local, remote = engine.recognize_page(str(path)), client.recognize_page(str(path))
        # Texts and boxes exactly; probabilities to float32 rounding (the worker's BLAS may sum in
        # another order than this process's).
        assert remote.text == local.text, path
        assert [(line.text, line.box, [(w.text, w.box) for w in line.words]) for line in remote.lines] == \
            [(line.text, line.box, [(w.text, w.box) for w in line.words]) for line in local.lines], path
        assert remote.confidence == pytest.approx(local.confidence, abs=1e-4)
        assert [line.confidence for line in remote.lines] == pytest.approx([line.confidence for line in local.lines], abs=1e-4)
        assert len(remote.lines) >= 2 and all(line.words for line in remote.lines)
    assert client.recognize_page(str(notes / "inputs" / "08-two-lines.png")).text == "2048\n7315"
    # Auto mode on a page carries the layout too; a client that reads only the text still has it.
    auto = client.recognize_line(str(notes / "inputs" / "08-two-lines.png"), auto=True)
    assert auto.text == "2048\n7315" and auto.page is not None and len(auto.page.lines) == 2
    pages = client.recognize_pages([str(notes / "inputs" / "08-two-lines.png"), b"not an image"], errors="return")
    assert isinstance(pages[0], hwr.Page) and isinstance(pages[1], hwr.ImageDecodeError)


def test_dictionary_mode_in_the_engine_and_through_the_worker(engine: hwr.Engine, client: hwr.Client) -> None:
    """``lexicon_mode="words"``: each word of the free text is a lexicon word (bug input 09's kind,
    two words with a space); the same reading from the Engine and through the worker."""
    image = str(pathlib.Path(__file__).resolve().parents[3] / "Tests" / "Fixtures" / "inputs" / "09-two-words-with-space.png")
    words = ["BAG", "BIG", "BOX"]
    local = engine.recognize_line(image, lexicon=words, lexicon_mode="words")
    remote = client.recognize_line(image, lexicon=words, lexicon_mode="words")
    assert local.text == remote.text == "BIG BOX"
    assert engine.recognize_line(image, lexicon=words).text in words, "a whole-line lexicon reads one word"
    for call in (engine.recognize_line, client.recognize_line):
        with pytest.raises(hwr.InvalidArgumentError):
            call(image, lexicon=words, lexicon_mode="sentences")
