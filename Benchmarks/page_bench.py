#!/usr/bin/env python3
"""Page-mode speed (issue 13): a 6-line note as a 1600x1200 JPEG, from encoded bytes to the
result (``Engine.recognize_page(bytes)``: decoding, preprocessing, line segmentation, the lines read
by the line model, words and boxes), with 1 and 2 threads (``Engine(threads=...)``), and a
12-megapixel photo (4000x3000 JPEG) of the same note.  A benchmark, never a test.

The note is drawn by scripts/make-notes.py (a held-out handwriting font on white paper, black ink,
turned 0.5 degree); its text and the reading are printed so that the timing is of a page actually
read.  Each figure is the median of --runs timed calls after --warmup untimed ones.

    python3 Benchmarks/page_bench.py [--line-model PATH] [--runs 15] [--json out.json]

Needs Pillow, numpy and what scripts/make-notes.py needs (the fonts of scripts/build-text-corpus.sh).
"""

import argparse
import importlib.util
import io
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bindings" / "python"))
# Single-threaded matrix products inside each of the engine's threads, as the hwr command and the
# worker run them: the engine leaves OpenBLAS's process-wide setting to its host, and OpenBLAS's own
# threads on top of the engine's would oversubscribe the cores (read when OpenBLAS loads).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import hwr  # noqa: E402


def load_make_notes():
    spec = importlib.util.spec_from_file_location("make_notes", ROOT / "scripts" / "make-notes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def six_line_note(seed):
    """(1600x1200 JPEG bytes, 4000x3000 JPEG bytes, text) of one 6-line note."""
    mn = load_make_notes()
    fonts = mn.FontLines(str(ROOT / ".." / "shared" / "data"))
    composed = mn.ComposedLines(str(ROOT / "Tests" / "Fixtures" / "lines"))
    rng = np.random.default_rng([seed, 6])
    img, text, _, _, n, _ = mn.make_note(rng, "font", "white", fonts, composed, False, n_lines=6)
    assert n == 6
    paper = tuple(int(v) for v in np.median(np.asarray(img.convert("RGB"))[:4].reshape(-1, 3), 0))
    scale = min(1500 / img.width, 1100 / img.height)
    img = img.convert("RGB").resize((round(img.width * scale), round(img.height * scale)),
                                    Image.LANCZOS)
    page = Image.new("RGB", (1600, 1200), paper)
    page.paste(img, ((1600 - img.width) // 2, (1200 - img.height) // 2))
    small, large = io.BytesIO(), io.BytesIO()
    page.save(small, "JPEG", quality=90)
    page.resize((4000, 3000), Image.LANCZOS).save(large, "JPEG", quality=90)
    return small.getvalue(), large.getvalue(), text


def median_ms(engine, data, runs, warmup):
    for _ in range(warmup):
        engine.recognize_page(data, beam_width=1)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        page = engine.recognize_page(data, beam_width=1)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times), min(times), max(times), page


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="character model (default: the binding's)")
    ap.add_argument("--line-model", help="line model (default: the binding's)")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--save", help="folder to write the two JPEGs to")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()

    small, large, text = six_line_note(args.seed)
    if args.save:
        os.makedirs(args.save, exist_ok=True)
        Path(args.save, "note-1600x1200.jpg").write_bytes(small)
        Path(args.save, "note-4000x3000.jpg").write_bytes(large)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"note: 1600x1200 JPEG {len(small) / 1e3:.0f} kB, 4000x3000 JPEG {len(large) / 1e3:.0f} kB; "
          f"text: {text!r}")
    results = []
    for label, data in (("1600x1200", small), ("4000x3000", large)):
        for threads in (1, 2):
            with hwr.Engine(model=args.model, line_model=args.line_model, threads=threads) as e:
                med, lo, hi, page = median_ms(e, data, args.runs, args.warmup)
                line_model = e.line_model_path
            results.append({"image": label, "threads": threads, "median_ms": round(med, 1),
                            "min_ms": round(lo, 1), "max_ms": round(hi, 1), "runs": args.runs,
                            "lines": len(page.lines), "text": page.text})
            print(f"{label} JPEG, {threads} thread{'s' if threads > 1 else ''}: median "
                  f"{med:.1f} ms (min {lo:.1f}, max {hi:.1f}, {args.runs} runs); "
                  f"{len(page.lines)} lines: {page.text!r}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": cpu_model(), "cores": os.cpu_count(), "line_model": line_model,
                       "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                       "note_text": text, "results": results}, fh, indent=1)


if __name__ == "__main__":
    main()
