#!/usr/bin/env python3
"""Measure hwr's line mode on word and line images with known transcriptions.

Every image of one or more manifests (CSV with the columns ``path`` and ``text``; paths relative to
the manifest's folder, or to ``--root``) is read through the Python binding
(``hwr.Engine.recognize_line``) and compared with its transcription:

* CER: character edit distance summed over the lines, divided by the reference characters;
* WER: word edit distance (words split at spaces) summed, divided by the reference words;
* exact: the share of lines read exactly right, beside the mean confidence (what
  ``reject_threshold`` compares: the two agree when the confidences are calibrated);

each case-insensitive (``ci``: both texts in lower case) and case-sensitive (``cs``), per manifest.
A line the library finds nothing written on (``ImageEmptyError``) counts as read empty; any other
error stops the run (a wrong path or model would otherwise pass for a 100% CER), unless
``--refused-as-empty`` lets an image refused as several lines count as read empty. ``--turn 180``
turns every image half a turn before it is read (a photo taken upside down, with no EXIF tag),
after applying its own EXIF orientation, as the library does.

    python3 scripts/eval-lines.py Tests/Fixtures/text-lines/manifest.csv [more.csv ...]
        [--root DIR] [--limit N] [--beam-width 1] [--charset text] [--turn 180] [--json out.json]

The library is the one ``HWR_LIBRARY`` names (else the installed one), the text-line model the
one ``HWR_TEXT_MODEL`` names (else the installed one).
"""

import argparse
import csv
import importlib
import io
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bindings" / "python"))
sys.path.insert(0, str(ROOT / "scripts"))
import hwr  # noqa: E402

# The same edit distance as the page evaluation.
edit_distance = importlib.import_module("eval-notes").edit_distance


def read_manifest(path, root, limit):
    """The (image path, text) pairs of a manifest, at most ``limit`` of them."""
    base = Path(root) if root else Path(path).parent
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [(str(base / r["path"]), r["text"]) for r in csv.DictReader(fh)]
    return rows[:limit] if limit else rows


def image_for(path, turn):
    """The image as the library gets it: its path, or PNG bytes of it turned ``turn`` degrees."""
    if not turn:
        return path
    from PIL import Image, ImageOps
    out = io.BytesIO()
    ImageOps.exif_transpose(Image.open(path)).rotate(turn, expand=True).save(out, format="PNG")
    return out.getvalue()


def measure(engine, rows, turn, options, refused_as_empty=False):
    """Rates (fractions) and timing over ``rows``; with ``refused_as_empty``, an image refused as
    not one line (``InvalidArgumentError``: several lines) counts as read empty, and is counted."""
    tot = {"lines": 0, "chars": 0, "words": 0, "confidence": 0.0, "seconds": 0.0, "refused": 0}
    tolerated = (hwr.ImageEmptyError, hwr.InvalidArgumentError) if refused_as_empty else hwr.ImageEmptyError
    for path, ref in rows:
        image = image_for(path, turn)
        start = time.perf_counter()
        try:
            r = engine.recognize_line(image, **options)
            hyp, confidence = r.text, r.confidence
        except tolerated as error:
            hyp, confidence = "", 0.0
            tot["refused"] += int(isinstance(error, hwr.InvalidArgumentError))
        tot["seconds"] += time.perf_counter() - start
        tot["lines"] += 1
        tot["chars"] += len(ref)
        tot["words"] += len(ref.split())
        tot["confidence"] += confidence
        for case, f in (("ci", str.lower), ("cs", str)):
            tot[f"char_err_{case}"] = tot.get(f"char_err_{case}", 0) + edit_distance(f(ref), f(hyp))
            tot[f"word_err_{case}"] = tot.get(f"word_err_{case}", 0) + edit_distance(f(ref).split(), f(hyp).split())
            tot[f"exact_{case}"] = tot.get(f"exact_{case}", 0) + int(f(ref) == f(hyp))
    n = max(1, tot["lines"])
    out = {"lines": tot["lines"], "refused": tot["refused"], "mean_confidence": tot["confidence"] / n, "ms_per_line": 1000 * tot["seconds"] / n}
    for case in ("ci", "cs"):
        out[f"cer_{case}"] = tot.get(f"char_err_{case}", 0) / max(1, tot["chars"])
        out[f"wer_{case}"] = tot.get(f"word_err_{case}", 0) / max(1, tot["words"])
        out[f"exact_{case}"] = tot.get(f"exact_{case}", 0) / n
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifests", nargs="+", help="CSV files with path and text columns")
    ap.add_argument("--root", help="folder the paths are relative to (default: each manifest's folder)")
    ap.add_argument("--limit", type=int, default=0, help="most lines of each manifest (0: all)")
    ap.add_argument("--beam-width", type=int, default=1, help="1: greedy best path (default)")
    ap.add_argument("--charset", help="the request's charset (default: none, free text)")
    ap.add_argument("--turn", type=int, default=0, choices=(0, 90, 180, 270),
                    help="degrees each image is turned (counter-clockwise) before it is read")
    ap.add_argument("--refused-as-empty", action="store_true",
                    help="count an image refused as several lines as read empty (lines turned a quarter)")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    options = {"beam_width": args.beam_width}
    if args.charset:
        options["charset"] = args.charset
    results = {}
    with hwr.Engine(threads=1) as engine:
        for manifest in args.manifests:
            r = measure(engine, read_manifest(manifest, args.root, args.limit), args.turn, options, args.refused_as_empty)
            results[manifest] = r
            print(f"{manifest}: {r['lines']} lines, CER {100 * r['cer_ci']:.2f}% ci / {100 * r['cer_cs']:.2f}% cs, "
                  f"WER {100 * r['wer_ci']:.1f}% ci / {100 * r['wer_cs']:.1f}% cs, exact {100 * r['exact_ci']:.1f}%, "
                  f"mean confidence {r['mean_confidence']:.3f}, {r['ms_per_line']:.1f} ms a line"
                  + (f", {r['refused']} refused as several lines" if args.refused_as_empty else ""))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
