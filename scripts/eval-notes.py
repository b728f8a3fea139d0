#!/usr/bin/env python3
"""Measure hwr's page mode on a folder of notes made by scripts/make-notes.py.

Every note is read through the Python binding (``hwr.Engine.recognize_page``, greedy decoding:
``beam_width=1``) and compared with its reference text (manifest.csv; line breaks written as
backslash-n).  Reported overall, by condition, by source, by ink and by hand (font family, or the
fixture lines), for the columns the manifest has:

* lines found: the share of notes read with the reference's number of lines (reference line i is
  then matched to hypothesis line i, in order; a note with another count is not);
* CER: character edit distance over the whole note (lines joined by a line break, which counts as
  one character), summed over the notes and divided by the reference characters;
* WER: word edit distance over the whole note (line breaks separate words like spaces), summed
  and divided by the reference words;
* CER on lines: the character edit distance of the matched lines of the notes whose lines were
  found, over their reference characters (the reading alone, without segmentation errors);

each case-insensitive (``ci``: both texts in lower case) and case-sensitive (``cs``).  A note on
which nothing is found (``ImageEmptyError``) is read as empty.

    python3 scripts/eval-notes.py /root/hwr-notes [--line-model PATH] [--json out.json]
        [--draw DIR [--draw-all]]

``--draw DIR`` writes, for every note whose lines were not found (all notes with ``--draw-all``),
a PNG with the line boxes (red) and word boxes (blue) the library returned, and under it the
reference and the reading, line by line.
"""

import argparse
import importlib
import csv
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bindings" / "python"))
sys.path.insert(0, str(ROOT / "scripts"))
import hwr  # noqa: E402


# The manifest's escaping, as scripts/make-notes.py writes it.
unescape = importlib.import_module("make-notes").unescape


def edit_distance(a, b):
    """Levenshtein distance between two sequences (strings or lists of words)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def read_manifest(folder):
    """The notes of a folder: a list of dicts with file, text (with real line breaks) and the
    other manifest columns."""
    with open(Path(folder) / "manifest.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["text"] = unescape(r["text"])
    return rows


def score(ref, hyp):
    """The counts of one note: reference and hypothesis texts with "\\n" between lines."""
    ref_lines, hyp_lines = ref.split("\n"), (hyp.split("\n") if hyp else [])
    out = {"notes": 1, "found": int(len(ref_lines) == len(hyp_lines))}
    for case, f in (("ci", str.lower), ("cs", str)):
        r, h = f(ref), f(hyp)
        out[f"char_err_{case}"] = edit_distance(r, h)
        out[f"words_err_{case}"] = edit_distance(r.split(), h.split())
        if out["found"]:
            out[f"line_err_{case}"] = sum(edit_distance(f(a), f(b))
                                          for a, b in zip(ref_lines, hyp_lines))
        else:
            out[f"line_err_{case}"] = 0
    out["chars"] = len(ref)
    out["words"] = len(ref.split())
    out["line_chars"] = len(ref) if out["found"] else 0
    return out


def summarise(scores):
    """Sum the counts of several notes into rates (fractions, not percents)."""
    tot = {}
    for s in scores:
        for k, v in s.items():
            tot[k] = tot.get(k, 0) + v
    n = tot.get("notes", 0)
    res = {"notes": n, "lines_found": tot.get("found", 0) / max(1, n)}
    for case in ("ci", "cs"):
        res[f"cer_{case}"] = tot.get(f"char_err_{case}", 0) / max(1, tot.get("chars", 0))
        res[f"wer_{case}"] = tot.get(f"words_err_{case}", 0) / max(1, tot.get("words", 0))
        res[f"line_cer_{case}"] = (tot.get(f"line_err_{case}", 0) / tot["line_chars"]
                                   if tot.get("line_chars") else None)
    return res


def read_notes(folder, engine, rows=None, charsets=None):
    """Read every note of a folder; returns the rows, each with "hyp", "seconds" and "score".
    ``charsets`` maps a note's source to the charset a caller who knows it passes (for example
    {"composed": "alnum"}: codes, read by the line model); other notes are read with none."""
    rows = read_manifest(folder) if rows is None else rows
    for r in rows:
        start = time.perf_counter()
        try:
            page = engine.recognize_page(str(Path(folder) / r["file"]), beam_width=1,
                                         charset=(charsets or {}).get(r["source"]))
            r["hyp"] = page.text
            r["boxes"] = [[list(l.box), [list(w.box) for w in l.words]] for l in page.lines]
        except hwr.ImageEmptyError:
            r["hyp"], r["boxes"] = "", []
        r["seconds"] = time.perf_counter() - start
        r["score"] = score(r["text"], r["hyp"])
    return rows


def report(rows):
    """Overall, by condition, by source and by ink: {group: {value: summary}}."""
    out = {"all": {"all": summarise([r["score"] for r in rows])}}
    for key in ("condition", "source", "ink", "hand"):
        if not rows or key not in rows[0]:
            continue
        values = sorted({r[key] for r in rows})
        out[key] = {v: summarise([r["score"] for r in rows if r.get(key, "") == v])
                    for v in values}
    return out


def pct(x):
    return "    -" if x is None else f"{100 * x:5.1f}"


def print_table(title, rep):
    print(title)
    head = (f"{'':22} {'notes':>5} {'found':>6} {'CER ci':>7} {'CER cs':>7} {'WER ci':>7} "
            f"{'WER cs':>7} {'lineCER ci':>10} {'lineCER cs':>10}")
    print(head)
    print("-" * len(head))
    for group in ("all", "condition", "source", "ink", "hand"):
        for value, s in rep.get(group, {}).items():
            label = "all" if group == "all" else f"{group}={value}"
            print(f"{label:22} {s['notes']:5d} {pct(s['lines_found']):>6} {pct(s['cer_ci']):>7} "
                  f"{pct(s['cer_cs']):>7} {pct(s['wer_ci']):>7} {pct(s['wer_cs']):>7} "
                  f"{pct(s['line_cer_ci']):>10} {pct(s['line_cer_cs']):>10}")
    print("(percent; found: notes with the right number of lines; CER/WER over whole notes; "
          "lineCER: matched lines of the found notes only)")


def draw(folder, row, out_dir):
    """The note with its line and word boxes, the reference and the reading under it."""
    from PIL import Image, ImageDraw, ImageFont, ImageOps

    with Image.open(Path(folder) / row["file"]) as im:
        img = ImageOps.exif_transpose(im).convert("RGB")
    d = ImageDraw.Draw(img)
    for k, (line, words) in enumerate(row["boxes"]):
        x, y, w, h = line
        d.rectangle([x, y, x + w - 1, y + h - 1], outline=(220, 30, 30), width=2)
        d.text((x + 2, y - 12 if y >= 12 else y + h), str(k + 1), fill=(220, 30, 30))
        for wx, wy, ww, wh in words:
            d.rectangle([wx, wy, wx + ww - 1, wy + wh - 1], outline=(30, 90, 230), width=1)
    font = ImageFont.load_default(size=16)
    ref, hyp = row["text"].split("\n"), row["hyp"].split("\n") if row["hyp"] else []
    rows = max(len(ref), len(hyp))
    sheet = Image.new("RGB", (max(img.width, 900), img.height + 22 * (rows + 1) + 8), "white")
    sheet.paste(img, (0, 0))
    d = ImageDraw.Draw(sheet)
    d.text((4, img.height + 4), f"{row['file']} {row.get('condition', '')} {row.get('source', '')}: "
           f"{len(ref)} lines, read {len(hyp)}", fill="black", font=font)
    for k in range(rows):
        a = ref[k] if k < len(ref) else ""
        b = hyp[k] if k < len(hyp) else ""
        d.text((4, img.height + 26 + 22 * k), f"{k + 1}. {a}  ->  {b}", fill="black", font=font)
    sheet.save(Path(out_dir) / (Path(row["file"]).stem + ".png"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", help="a folder with manifest.csv (scripts/make-notes.py)")
    ap.add_argument("--model", help="character model (default: the binding's)")
    ap.add_argument("--line-model", help="line model for codes (default: the binding's, hwr-line.hwrm)")
    ap.add_argument("--text-model", help="text-line model (default: the binding's, hwr-text.hwrm)")
    ap.add_argument("--codes", action="store_true",
                    help="read the composed notes (upper-case codes) with --charset alnum, as a caller who knows")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", help="write the report, and every note's reading, to this file")
    ap.add_argument("--show", type=int, default=0, help="print the first N misread notes")
    ap.add_argument("--draw", help="folder for pictures of the notes whose lines were not found")
    ap.add_argument("--draw-all", action="store_true", help="draw every note")
    args = ap.parse_args()

    with hwr.Engine(model=args.model, line_model=args.line_model, threads=args.threads,
                    text_model=args.text_model) as engine:
        start = time.perf_counter()
        rows = read_notes(args.folder, engine, charsets={"composed": "alnum"} if args.codes else None)
        elapsed = time.perf_counter() - start
    rep = report(rows)
    line_model = (f"text {args.text_model or os.environ.get('HWR_TEXT_MODEL') or '(default)'}, "
                  f"line {args.line_model or os.environ.get('HWR_LINE_MODEL') or '(default)'}"
                  + (", composed notes --charset alnum" if args.codes else ""))
    print_table(f"{args.folder}: {len(rows)} notes, line model {line_model}, greedy, "
                f"{elapsed:.1f} s ({1000 * elapsed / max(1, len(rows)):.0f} ms a note)", rep)
    shown = 0
    for r in rows:
        if shown >= args.show:
            break
        if r["hyp"] != r["text"]:
            shown += 1
            print(f"--- {r['file']} ({r['condition']}, {r['source']}):\n  ref: "
                  + r["text"].replace("\n", " | ") + "\n  hyp: " + r["hyp"].replace("\n", " | "))
    if args.draw:
        os.makedirs(args.draw, exist_ok=True)
        for r in rows:
            if args.draw_all or not r["score"]["found"]:
                draw(args.folder, r, args.draw)
    if args.json:
        keys = ("file", "condition", "source", "ink", "hand", "text", "hyp", "seconds", "boxes")
        notes = [{k: r[k] for k in keys if k in r} for r in rows]
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"folder": str(args.folder), "line_model": line_model, "decoding": "greedy",
                       "report": rep, "notes": notes}, fh, indent=1)


if __name__ == "__main__":
    main()
