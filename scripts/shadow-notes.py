#!/usr/bin/env python3
"""Derive notes in hard shadow from notes made by scripts/make-notes.py: a shadow with a sharp edge
(1-4 px) over 55-80% of the note, 35-55% darker, then a turn of 2-4 degrees; `--light-ink` first
turns the note into light ink on a dark board. Writes the images and a manifest.csv that
scripts/eval-notes.py reads. The kind of photo that once made page mode take the lit part for ink."""
import argparse
import csv
import math
from pathlib import Path

import numpy as np
from PIL import Image


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("source", help="a folder of notes with manifest.csv (scripts/make-notes.py)")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--count", type=int, default=40, help="notes (the first white, ruled and grid font notes)")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--light-ink", action="store_true", help="light ink on a dark board")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(Path(args.source) / "manifest.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["condition"] in ("white", "ruled", "grid") and r["source"] == "font"]
    rows = rows[:args.count]
    with open(out / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        for i, r in enumerate(rows):
            img = np.asarray(Image.open(Path(args.source) / r["file"]).convert("RGB"), dtype=np.float32)
            if args.light_ink:
                img = 40 + (255 - img) * 0.75
            h, w = img.shape[:2]
            angle, cover = rng.uniform(0, 2 * math.pi), rng.uniform(0.55, 0.8)
            d = np.arange(w)[None, :] * math.cos(angle) + np.arange(h)[:, None] * math.sin(angle)
            edge = np.quantile(d, 1 - cover)
            side = 1 / (1 + np.exp(np.clip(-(d - edge) / rng.uniform(1, 4), -30, 30)))
            light = 1 - rng.uniform(0.35, 0.55) * side
            note = Image.fromarray(np.clip(img * light[..., None], 0, 255).astype(np.uint8))
            fill = tuple(int(v) for v in np.median(np.asarray(note).reshape(-1, 3), axis=0))
            note = note.rotate(rng.uniform(2, 4) * rng.choice([-1, 1]), Image.BICUBIC, expand=True, fillcolor=fill)
            name = f"hard-shadow-{i:03d}.jpg"
            note.save(out / name, quality=90)
            writer.writerow(dict(r, file=name, condition="shadow"))


if __name__ == "__main__":
    main()
