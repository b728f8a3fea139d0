"""One engine shared by threads gives the same results as sequential calls, and closes safely."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import List

import pytest

import hwr
import _glyphs

THREADS = 4
CALLS = 50


def _images() -> list:
    chars = _glyphs.chars()
    return [_glyphs.gray(chars[i % len(chars)], thickness=4 + i % 5) for i in range(CALLS)]


def test_threads_match_sequential(engine: hwr.Engine) -> None:
    images = _images()
    sequential = [engine.recognize_char(im, top_k=5) for im in images]
    barrier = threading.Barrier(THREADS)

    def work(t: int) -> List[hwr.CharResult]:
        barrier.wait()
        order = list(range(CALLS))[t:] + list(range(CALLS))[:t]  # each thread starts elsewhere
        got = {i: engine.recognize_char(images[i], top_k=5) for i in order}
        return [got[i] for i in range(CALLS)]

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(work, range(THREADS)))
    for r in results:
        assert r == sequential  # same texts, candidates and probabilities, bit for bit


def test_threads_batches_and_errors(engine: hwr.Engine) -> None:
    images = _images()[:10] + [b"junk"]
    expected = engine.recognize_batch(images, errors="return")

    def work(_: int) -> list:
        out = []
        for _ in range(5):
            out.append(engine.recognize_batch(images, errors="return"))
            # The error message (thread-local in the library) belongs to this thread's call. The
            # call must fail: a try/except here would pass if it returned a result.
            with pytest.raises(hwr.ImageDecodeError) as info:
                engine.recognize_char(b"\x89PNG\r\n\x1a\n broken")
            assert "PNG" in info.value.message
        return out

    with ThreadPoolExecutor(THREADS) as pool:
        for outs in pool.map(work, range(THREADS)):
            for out in outs:
                assert [type(x) for x in out] == [type(x) for x in expected]
                for a, b in zip(out, expected):
                    if isinstance(a, hwr.CharResult):
                        assert a.text == b.text
                        assert a.confidence == pytest.approx(b.confidence, abs=1e-5)
                    else:
                        assert a == b


def test_close_waits_for_running_calls(model_path: str) -> None:
    e = hwr.Engine(model_path)
    image = _glyphs.gray("7")
    started = threading.Event()
    outcomes: List[str] = []

    def work() -> None:
        started.set()
        while True:
            try:
                r = e.recognize_char(image)
            except hwr.InvalidArgumentError as err:
                assert "closed" in err.message
                outcomes.append("closed")
                return
            if r.text != "7":
                outcomes.append("wrong")
                return

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for t in threads:
        t.start()
    started.wait()
    e.close()
    for t in threads:
        t.join(timeout=60)
    assert outcomes == ["closed"] * THREADS
