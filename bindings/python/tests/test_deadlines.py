"""Request deadlines (``deadline_ms``) through the Engine and the ``hwr recognize`` command, and the
engine's memory returning to its usual size after very large inputs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

import hwr
from conftest import CHECKOUT

WIDE_LINE = CHECKOUT / "Tests" / "Fixtures" / "worker" / "wide-line.png"
K_JPG = CHECKOUT / "Tests" / "Fixtures" / "formats" / "K.jpg"
#: A constrained decoding of a 3667-pixel line that takes seconds without a deadline.
SLOW = dict(pattern=".{64}.{64}", beam_width=1000, alternatives=100)


def test_a_deadline_stops_a_slow_line(engine: hwr.Engine) -> None:
    # The bound is relative to the line's forward pass (which a deadline does not cut short), so that
    # a loaded machine slows both alike: undeadlined, the decoding takes about 20 forward passes.
    started = time.monotonic()
    engine.recognize_line(WIDE_LINE, charset="alnum", beam_width=1)
    forward = time.monotonic() - started
    started = time.monotonic()
    with pytest.raises(hwr.DeadlineExceededError, match="300 ms") as info:
        engine.recognize_line(WIDE_LINE, deadline_ms=300, **SLOW)
    assert time.monotonic() - started < 3 * forward + 1.0
    assert info.value.status == hwr.DeadlineExceededError.STATUS == 10


def test_batch_items_past_the_deadline_carry_the_error(engine: hwr.Engine) -> None:
    items = engine.recognize_lines([WIDE_LINE, WIDE_LINE], deadline_ms=300, errors="return", **SLOW)
    assert [type(i) for i in items] == [hwr.DeadlineExceededError, hwr.DeadlineExceededError]
    assert [i.index for i in items] == [0, 1]
    # Within the deadline, the same calls read as usual.
    assert engine.recognize_char(K_JPG, deadline_ms=60_000).text == "K"
    assert engine.recognize_batch([K_JPG] * 3, deadline_ms=60_000)[2].text == "K"


def test_every_call_takes_a_deadline(engine: hwr.Engine) -> None:
    line = CHECKOUT / "Tests" / "Fixtures" / "lines" / "word-000.png"
    assert engine.recognize_line(line, deadline_ms=60_000).text
    assert engine.recognize_sequence([K_JPG, K_JPG], deadline_ms=60_000).text == "KK"
    assert engine.recognize_page(line, deadline_ms=60_000).lines
    with pytest.raises(hwr.InvalidArgumentError, match="deadline"):
        engine.recognize_char(K_JPG, deadline_ms=-1)
    with pytest.raises(TypeError):
        engine.recognize_char(K_JPG, deadline_ms="10")  # type: ignore[arg-type]


def _cli() -> str:
    exe = os.environ.get("HWR_CLI") or str(CHECKOUT / ".build" / "release" / "hwr-cli")
    if not os.path.isfile(exe):
        pytest.skip(f"{exe} not found (swift build -c release --product hwr-cli, or set HWR_CLI)")
    return exe


def test_the_command_line_takes_a_deadline() -> None:
    args = [_cli(), "recognize", "--mode", "line", "--pattern", ".{64}.{64}", "--beam", "1000",
            "--alternatives", "100", "--deadline-ms", "300", str(WIDE_LINE)]
    started = time.monotonic()
    r = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=str(CHECKOUT))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "deadline of 300 ms passed" in r.stderr
    assert time.monotonic() - started < 10  # the models load first; without a deadline: over 10 s
    r = subprocess.run([_cli(), "recognize", "--deadline-ms", "-5", str(K_JPG)], capture_output=True, text=True,
                       timeout=120, cwd=str(CHECKOUT))
    assert r.returncode != 0 and "deadline" in r.stderr


def test_memory_returns_after_very_large_inputs() -> None:
    """A batch of 4096 characters and wide lines grow the engine's workspaces; they are freed
    after the call, so the process's resident size comes back near its usual size (it stayed
    2.5 GB above it before)."""
    code = textwrap.dedent(f"""
        import hwr
        def rss_mib():
            for line in open("/proc/self/status"):
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) // 1024
        with hwr.Engine(threads=2) as e:
            k = open({str(K_JPG)!r}, "rb").read()
            for _ in range(3):  # the usual size: workspaces of a batched pass and of a word
                e.recognize_batch([k] * 256)
                e.recognize_line({str(CHECKOUT / "Tests" / "Fixtures" / "lines" / "word-000.png")!r})
            base = rss_mib()
            e.recognize_batch([k] * 4096)
            e.recognize_lines([{str(WIDE_LINE)!r}] * 4, beam_width=1, errors="return")
            e.recognize_char(k)
            print(base, rss_mib())
        """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    base, after = (int(v) for v in r.stdout.split())
    assert after - base < 50, f"resident {base} MiB before, {after} MiB after the large inputs"
