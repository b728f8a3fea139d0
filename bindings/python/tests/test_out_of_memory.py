"""``HWR_ERR_OUT_OF_MEMORY`` is a status, not a crash (issue 10, defect 4).

A child process opens an engine, caps its own address space a little above what it already uses
(``RLIMIT_AS``), and asks for a 4096 x 4096 PNG: the decoder's pixel buffer (32 MiB) cannot be
allocated, and the call must raise :class:`hwr.OutOfMemoryError` while the process lives on and
still reads a small image afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import resource, struct, zlib
    import hwr

    def png(width, height):
        def chunk(kind, data):
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        raw = b"".join(b"\\x00" + b"\\xff" * width for _ in range(height))
        header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
        return b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")

    engine = hwr.Engine(threads=1)
    big, small = png(4096, 4096), png(64, 64)
    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (used + 24 * 1024 * 1024, resource.RLIM_INFINITY))
    try:
        engine.recognize_char(big)
        print("no error")
    except hwr.OutOfMemoryError as e:
        print("out of memory:", e)
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    try:
        engine.recognize_char(small)
    except hwr.ImageEmptyError:
        print("still alive")
    """
)


def test_an_allocation_failure_is_out_of_memory_and_the_host_lives_on() -> None:
    child = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120,
                           env=dict(os.environ))
    assert child.returncode == 0, child.stderr
    assert "out of memory:" in child.stdout, child.stdout + child.stderr
    assert "still alive" in child.stdout, child.stdout + child.stderr
