"""Every file of ``../shared/robustness-inputs`` (the inputs that made hwr misbehave, each standing
for a kind) behaves as that folder's README says, in the four front ends: the command line, the C
ABI (through the Engine), the worker (through the Client) and the Python binding; and so do the
inputs of the same kinds listed here (``/dev/null`` as an image, an empty file, a directory).

A file in the folder that this test does not know fails it: its expectation must be added here."""

from __future__ import annotations

import contextlib
import os
import pathlib
import subprocess
import sys
import time
from typing import Callable, Dict, Iterator, List, Optional

import pytest

import hwr
from conftest import CHECKOUT

pytest.importorskip("zmq", reason="pyzmq is not installed (pip install 'hwr[client]')")
from test_client import LiveWorker, _worker_binary  # noqa: E402

INPUTS = CHECKOUT.parent / "shared" / "robustness-inputs"
K_JPG = CHECKOUT / "Tests" / "Fixtures" / "formats" / "K.jpg"
WORD = CHECKOUT / "Tests" / "Fixtures" / "lines" / "word-000.png"
CHAR_MODEL = CHECKOUT / "models" / "hwr-char.hwrm"
LINE_MODEL = CHECKOUT / "models" / "hwr-line.hwrm"


def cli(*args: str, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    return subprocess.run([worker_binary(), *args], capture_output=True, text=True, timeout=300, cwd=str(CHECKOUT),
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveWorker]:
    w = LiveWorker(worker_binary(), tmp_path_factory.mktemp("worker") / "worker.log", ["--threads", "2"])
    yield w
    assert w.stop() == 0, w.log()


def worker_binary() -> str:
    exe, why = _worker_binary()
    if exe is None:
        pytest.skip(why)
    return exe


@contextlib.contextmanager
def environment(**variables: str) -> Iterator[None]:
    """Sets environment variables (inherited by the processes started meanwhile), then restores them."""
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# ---- the folder's files, one check per file ------------------------------------------------------

def check_line_no_chars(path: pathlib.Path, tmp_path: pathlib.Path, client: hwr.Client) -> None:
    """A line model with an empty charset: HWR_ERR_MODEL_FORMAT when the engine is opened."""
    with pytest.raises(hwr.ModelFormatError):
        hwr.Engine(line_model=path)
    r = cli("recognize", "--line-model", str(path), "--mode", "line", str(WORD))
    assert r.returncode == 1 and "0 characters" in r.stderr, r.stderr
    # A worker with it refuses to start, instead of dying at its first request.
    r = cli("worker", "--bind", "tcp://127.0.0.1:*", env={"HWR_LINE_MODEL": str(path)})
    assert r.returncode == 1 and "0 characters" in r.stderr, r.stderr


def check_char_letters_only(path: pathlib.Path, tmp_path: pathlib.Path, client: hwr.Client) -> None:
    """A valid letters-only model asked for digits: HWR_ERR_INVALID_ARGUMENT."""
    with hwr.Engine(model=path) as e:
        assert e.recognize_char(K_JPG).text.isalpha()
        with pytest.raises(hwr.InvalidArgumentError, match="selects no class"):
            e.recognize_char(K_JPG, charset="digits")
    r = cli("recognize", "--model", str(path), "--charset", "digits", str(K_JPG))
    assert r.returncode == 1 and "selects no class" in r.stderr, r.stderr
    with environment(HWR_MODEL=str(path)):
        w = LiveWorker(worker_binary(), tmp_path / "letters.log", ["--threads", "1"])
    try:
        with hwr.Client(w.endpoint, timeout=60, retries=0) as c:
            with pytest.raises(hwr.InvalidArgumentError, match="selects no class"):
                c.recognize_char(K_JPG, charset="digits")
            assert c.recognize_char(K_JPG).text.isalpha()
    finally:
        assert w.stop() == 0, w.log()


def check_huge_weights_script(path: pathlib.Path, tmp_path: pathlib.Path, client: hwr.Client) -> None:
    """A model with last-layer weights of +-3e38: refused at load (or finite probabilities)."""
    model = tmp_path / "huge-weights.hwrm"
    subprocess.run([sys.executable, str(path), str(CHAR_MODEL), str(model)], check=True, timeout=120)
    with pytest.raises(hwr.ModelFormatError):
        hwr.Engine(model=model)
    r = cli("recognize", "--json", "--model", str(model), str(K_JPG))
    assert r.returncode == 1 and "nan" not in r.stdout.lower(), r.stdout + r.stderr


SLOW = dict(pattern=".{64}.{64}", beam_width=1000, alternatives=100)


def check_wide_line(path: pathlib.Path, tmp_path: pathlib.Path, client: hwr.Client) -> None:
    """A 3667-pixel line with a pattern and a wide beam: the work is bounded (a deadline stops it
    with a clear error), and the worker keeps answering other clients meanwhile."""
    with hwr.Engine() as e:
        # Relative to the line's forward pass, so that a loaded machine slows both alike (without a
        # deadline the decoding takes about 20 of them).
        started = time.monotonic()
        e.recognize_line(path, charset="alnum", beam_width=1)
        forward = time.monotonic() - started
        started = time.monotonic()
        with pytest.raises(hwr.DeadlineExceededError):
            e.recognize_line(path, deadline_ms=500, **SLOW)
        assert time.monotonic() - started < 3 * forward + 1.5
    r = cli("recognize", "--mode", "line", "--beam", "1000", "--alternatives", "100", "--pattern", ".{64}.{64}",
            "--deadline-ms", "500", str(path))
    assert r.returncode == 1 and "deadline" in r.stderr, r.stderr
    with pytest.raises(hwr.DeadlineExceededError):
        client.recognize_line(path, deadline_ms=500, **SLOW)
    started = time.monotonic()
    assert client.health()
    assert time.monotonic() - started < 1


def check_max_4096(path: pathlib.Path, tmp_path: pathlib.Path, client: hwr.Client) -> None:
    """A 28 KB PNG that decodes to 16.7 M pixels, 256 copies in one RecognizeBatch: the worker
    decodes them a few at a time (its pixel budget), every image gets its own outcome, those not
    read within the request's deadline DEADLINE_EXCEEDED, and the worker keeps serving."""
    data = path.read_bytes()
    started = time.monotonic()
    items = client.recognize_batch([data] * 256, errors="return", deadline_ms=10_000)
    assert time.monotonic() - started < 30
    assert len(items) == 256
    assert all(isinstance(i, (hwr.CharResult, hwr.DeadlineExceededError)) for i in items), items[:3]
    assert isinstance(items[-1], hwr.DeadlineExceededError)  # 256 decodes take minutes on one thread
    assert client.health()
    with hwr.Engine() as e:
        assert len(e.recognize_batch([data] * 4, errors="return")) == 4
    r = cli("recognize", str(path))
    assert r.returncode in (0, 1) and "Traceback" not in r.stderr


CHECKS: Dict[str, Callable[[pathlib.Path, pathlib.Path, hwr.Client], None]] = {
    "line-no-chars.hwrm": check_line_no_chars,
    "char-letters-only.hwrm": check_char_letters_only,
    "make-huge-weights-model.py": check_huge_weights_script,
    "wide-line.png": check_wide_line,
    "max-4096x4096.png": check_max_4096,
}


def _files() -> List[str]:
    if not INPUTS.is_dir():
        return []
    return sorted(p.name for p in INPUTS.iterdir() if p.name != "README.md")


@pytest.mark.skipif(not INPUTS.is_dir(), reason=f"{INPUTS} is not here")
@pytest.mark.parametrize("name", _files())
def test_every_robustness_input(name: str, tmp_path: pathlib.Path, worker: LiveWorker) -> None:
    assert name in CHECKS, f"{INPUTS / name}: no expectation here; add one from the folder's README"
    with hwr.Client(worker.endpoint, timeout=60, retries=0) as client:
        CHECKS[name](INPUTS / name, tmp_path, client)


def test_special_files_as_images(tmp_path: pathlib.Path, worker: LiveWorker) -> None:
    """Inputs of the same kinds: a path that is not a regular image file. An empty file,
    ``/dev/null`` and a pipe nobody writes to are empty images (not I/O errors); a directory is an
    I/O error; ``/dev/zero`` is not an image (the library stops after its first bytes)."""
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    cases = [  # path, Engine's error, the command's message, the Client's error
        ("/dev/null", hwr.ImageEmptyError, "empty image", hwr.ImageDecodeError),
        (str(empty), hwr.ImageEmptyError, "empty image", hwr.ImageDecodeError),
        (str(fifo), hwr.ImageEmptyError, "empty image", hwr.ImageDecodeError),
        (str(tmp_path), hwr.HwrIOError, "is a directory", hwr.HwrIOError),
    ]
    with hwr.Engine() as e, hwr.Client(worker.endpoint, timeout=60, retries=0) as c:
        for path, engine_error, message, client_error in cases:
            with pytest.raises(engine_error):
                e.recognize_char(path)
            with pytest.raises(client_error):
                c.recognize_char(path)
            items = e.recognize_batch([path, K_JPG], errors="return")
            assert type(items[0]) is engine_error and items[1].text == "K"
            r = cli("recognize", path, str(K_JPG))
            assert r.returncode == 1 and message in r.stderr and "K.jpg\tK" in r.stdout, (path, r.stderr)
    started = time.monotonic()
    r = cli("recognize", "/dev/zero")
    assert r.returncode == 1 and "unknown format" in r.stderr, r.stderr
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("option, value, message", [
    ("--reject", "-0.1", "reject threshold must be in [0, 1]"),
    ("--beam", "-3", "beam width must be in 1...1000"),
    ("--top-k", "-1", "top_k must be at least 1"),
    ("--threads", "-2", "threads must be >= 0"),
])
def test_negative_numbers_reach_the_range_checks(option: str, value: str, message: str) -> None:
    """A negative number after a numeric option is that option's value, out of range, not a missing
    value followed by an unknown option (found by a new-user test: `--reject -0.1`)."""
    r = cli("recognize", option, value, str(K_JPG))
    assert r.returncode == 1 and message in r.stderr and f"got {value}" in r.stderr, r.stderr
