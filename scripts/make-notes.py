#!/usr/bin/env python3
"""Compose handwritten notes of 1 to 6 lines for measuring hwr's page mode (issue 13).

Each note is one of these sources (the first two by default, in turn; ``--sources`` picks):

* ``font``: lines in the handwriting fonts held out of the line model's training
  (text_corpus.HELD_OUT_FAMILIES: Kalam, Satisfy, Junkyard), with case, spaces and punctuation;
  the text and the glyph rendering come from scripts/text_corpus.py (imported, not copied);
* ``composed``: the composed upper-case/digit lines of Tests/Fixtures/lines (unseen writers'
  characters, light ink on black 28-px strips, used inverted as dark ink), one to three of them
  side by side with a word gap between them on each line of the note;
* ``writers``: lines of words with case, spaces and punctuation composed from the characters of
  the writers held out of the line model's training (text_corpus.Corpus.composed_mask on the
  val-composed split: the composed text lines of the text-line validation, on a note).

and is put on one paper condition (the ``condition`` column):

  white     plain white paper
  ruled     lined paper, the writing on the rules (sometimes a red margin line)
  grid      squared paper
  shadow    grey paper with a hard-edged or soft shadow across part of it and uneven light
  frame     the paper inside a dark frame (a table or a scanner lid around it)
  rotated   white or tinted paper turned 2 to 5 degrees
  jpeg      white or tinted paper with sensor noise, saved as a low-quality JPEG (25-45)

and, only when asked for with ``--conditions``:

  notebook  lined paper with a margin line (red or grey, 1-3 px), turned 1 to 5 degrees: a phone
            photo of a notebook page

The ink is black or blue (the ``ink`` column) on every condition; every note is turned a little
(within 1 degree; ``angle``) and the lines are indented and spaced unevenly.  Notes are written as
PNG or JPEG (``jpeg`` always JPEG), and listed in ``manifest.csv`` (file, text, condition, source,
ink, angle, lines, hand: the font family or "fixture-lines"), the text's line breaks written as the two characters backslash and n, as in
../shared/bug-inputs/manifest.csv.  Everything is drawn from a generator seeded with (seed, note
index), so a seed always gives the same notes.

Needs the fonts and packages of scripts/build-text-corpus.sh (Pillow, numpy, and scipy and
fontTools through text_corpus).

    python3 scripts/make-notes.py --out /root/hwr-notes --count 300 --seed 1
    python3 scripts/make-notes.py --out Tests/Fixtures/notes --count 24 --seed 13 --small
"""

import argparse
import csv
import io
import math
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent))
import text_corpus as tc  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CONDITIONS = ("white", "ruled", "grid", "shadow", "frame", "rotated", "jpeg")
EXTRA_CONDITIONS = ("notebook",)  # not in the default mix, so that a seed's default notes stay the same
SOURCES = ("font", "composed")
EXTRA_SOURCES = ("writers",)  # not in the default mix, so that a seed's default notes stay the same
INKS = {"black": [(22, 22, 28), (40, 38, 45)], "blue": [(28, 48, 150), (45, 80, 185), (20, 40, 110)]}
MAX_CHARS = 40  # longest font line of a note


def escape(text):
    """A note's text for the manifest: line breaks as backslash-n."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def unescape(text):
    """The inverse of escape()."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append("\n" if text[i + 1] == "n" else text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


# --------------------------------------------------------------------------------------------------
# Line masks (ink 255 on 0), each with its baseline
# --------------------------------------------------------------------------------------------------

class FontLines:
    """Lines in the held-out fonts, drawn glyph by glyph with text_corpus's jitter."""

    def __init__(self, data_dir):
        faces = [f for f in tc.load_fonts() if f.used and f.family in tc.HELD_OUT_FAMILIES]
        if not faces:
            sys.exit("no held-out font (Kalam, Satisfy, Junkyard) found: run "
                     "scripts/build-text-corpus.sh once to install the fonts")
        self.families = {}
        for f in faces:
            self.families.setdefault(f.family, []).append(f)
        self.text = tc.TextSource(data_dir)

    def pick_face(self, rng):
        names = sorted(self.families)
        faces = self.families[names[rng.integers(len(names))]]
        return faces[rng.integers(len(faces))]

    def text_for(self, rng, face):
        """One line of text the face can draw, at most MAX_CHARS long, cut at a word boundary."""
        text = face_text = self.text.line_for(rng, face.allowed)
        while len(text) > MAX_CHARS and " " in text:
            text = text.rsplit(" ", 1)[0]
        text = text[:MAX_CHARS].strip()
        return text or face_text[:MAX_CHARS].strip() or "note"

    def line(self, rng, face, text, x_height):
        """Draw `text` with its lower-case x-height about `x_height` px: (mask, baseline)."""
        xh_em = max(0.25, -face.font(100).getbbox("x", anchor="ls")[1] / 100.0)
        size = int(min(max(round(x_height / xh_em), 16), 220))
        script = face.family in tc.SCRIPT_FAMILIES
        canvas_w = int(sum(face.glyph(c, size)[3] for c in text) * 1.3 + size * 2)
        canvas = np.zeros((int(size * 2.4), canvas_w), dtype=np.uint8)
        baseline = int(size * 1.5)
        x = size * 0.5
        space_scale = rng.uniform(1.0, 1.5)
        track = rng.uniform(-0.02, 0.06) * size * (0.3 if script else 1.0)
        for ch in text:  # the placement of text_corpus.Corpus.font_line
            img, ox, oy, adv = face.glyph(ch, size)
            if ch == " ":
                x += max(adv, 0.28 * size) * space_scale
                continue
            scale = rng.uniform(0.92, 1.08)
            angle = rng.uniform(-4, 4) * (0.5 if script else 1.0)
            if img is not None:
                g, gx, gy = tc.transform_glyph(img, ox, oy, angle, scale, scale)
                dy = rng.normal(0, 0.025 * size)
                tc.paste_max(canvas, g, int(round(x - gx)), int(round(baseline + dy - gy)))
            jitter = rng.normal(0, 0.03 if script else 0.05) * size
            x += adv * scale + track + min(max(jitter, -0.08 * size), 0.12 * size)
        mask = Image.fromarray(canvas, "L")
        height = size * 0.7
        if rng.random() < 0.6:
            mask = tc.vary_stroke(mask, rng, height)
        mask, baseline = tc.warp_line(mask, baseline, height, rng, rng.uniform(-0.2, 0.2),
                                      wobble=rng.uniform(0, 0.04), elastic=rng.uniform(0, 0.02))
        return crop(mask, baseline)


class WriterLines:
    """Lines of words composed from the held-out writers' characters (text_corpus)."""

    def __init__(self, data_dir):
        self.corpus = tc.Corpus(tc.load_fonts(), tc.TextSource(data_dir), data_dir)

    def line(self, rng, cap):
        """One line with capitals about `cap` px high: (mask, baseline, text)."""
        mask, baseline, _, line_cap, text, _, _ = self.corpus.composed_mask(rng, "val-composed")
        scale = cap / line_cap
        mask = mask.resize((max(1, round(mask.width * scale)), max(1, round(mask.height * scale))), Image.BICUBIC)
        mask, baseline = crop(mask, baseline * scale)
        if mask is None:
            return None, 0, text
        if rng.random() < 0.6:
            mask = tc.vary_stroke(mask, rng, cap)
        mask, baseline = tc.warp_line(mask, baseline, cap, rng, rng.uniform(-0.2, 0.2),
                                      wobble=rng.uniform(0, 0.04), elastic=rng.uniform(0, 0.02))
        mask, baseline = crop(mask, baseline)
        return mask, baseline, text


class ComposedLines:
    """The composed upper-case/digit strips of Tests/Fixtures/lines."""

    def __init__(self, lines_dir):
        self.strips = []
        with open(Path(lines_dir) / "manifest.csv", newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row["source"] == "composed":
                    with Image.open(Path(lines_dir) / row["path"]) as im:
                        a = np.asarray(im.convert("L"), dtype=np.float32)
                    bg = float(np.median(np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])))
                    if bg > 128:  # light paper: make it light ink on black like the others
                        a, bg = 255.0 - a, 255.0 - bg
                    ink = np.clip(a - bg, 0, 255)
                    # one pen: each character (a run of inked columns) to the same darkness
                    inked = ink.max(axis=0) > 30
                    x = 0
                    while x < ink.shape[1]:
                        if not inked[x]:
                            x += 1
                            continue
                        end = x
                        while end < ink.shape[1] and inked[end]:
                            end += 1
                        part = ink[:, x:end]
                        ink[:, x:end] = np.clip((part - 15) / max(1.0, 0.8 * part.max() - 15),
                                                0, 1) * 255
                        x = end
                    cols = np.flatnonzero(ink.max(axis=0) > 60)
                    if cols.size:
                        ink = ink[:, cols[0]:cols[-1] + 1]
                        self.strips.append((Image.fromarray(ink.astype(np.uint8), "L"),
                                            row["text"]))
        if not self.strips:
            sys.exit(f"no composed lines in {lines_dir}/manifest.csv")

    def line(self, rng, height):
        """One to three strips with word gaps, scaled to `height` px (the strips' 28 px):
        (mask, baseline, text)."""
        n = int(rng.choice([1, 2, 3], p=[0.45, 0.35, 0.2]))
        picks, total = [], 0
        for _ in range(n):
            for _ in range(10):
                img, text = self.strips[rng.integers(len(self.strips))]
                if total + len(text) <= 16 or not picks:
                    break
            else:
                break
            picks.append((img, text))
            total += len(text)
        scale = height / 28.0
        gap = rng.uniform(0.6, 1.0) * height
        parts = [p.resize((max(1, round(p.width * scale)), round(height)), Image.BICUBIC)
                 for p, _ in picks]
        width = int(sum(p.width for p in parts) + gap * (len(parts) - 1)) + 8
        canvas = np.zeros((round(height) + 8, width), dtype=np.uint8)
        x = 4
        for p in parts:
            dy = int(round(rng.normal(0, 0.03 * height)))
            tc.paste_max(canvas, p, x, 4 + dy)
            x += p.width + int(gap * rng.uniform(0.9, 1.1))
        mask = Image.fromarray(canvas, "L")
        mask, baseline = tc.warp_line(mask, 4 + 0.9 * height, height, rng,
                                      rng.uniform(-0.1, 0.1), wobble=rng.uniform(0, 0.03),
                                      elastic=0.0)
        mask, baseline = crop(mask, baseline)
        return mask, baseline, " ".join(t for _, t in picks)


def crop(mask, baseline):
    """Crop a line mask to its ink; the baseline moves with it."""
    bbox = mask.point(lambda v: 255 if v > 40 else 0).getbbox()
    if bbox is None:
        return None, 0
    return mask.crop(bbox), baseline - bbox[1]


# --------------------------------------------------------------------------------------------------
# Notes
# --------------------------------------------------------------------------------------------------

def make_note(rng, source, condition, fonts, composed, small, n_lines=None, writers=None):
    """Draw one note (of `n_lines` lines, else 1 to 6): (image, text, ink name, angle, number of
    lines, hand: the font family or "fixture-lines")."""
    drawn = int(rng.integers(1, 7))
    n_lines = n_lines or drawn
    x_height = rng.uniform(14, 22) if small else rng.uniform(20, 34)
    cap = x_height / 0.6  # the capital height of the composed strips
    lines = []  # (mask, baseline, text)
    hand = "fixture-lines"
    if source == "font":
        face = fonts.pick_face(rng)
        hand = face.family
        for _ in range(n_lines):
            text = fonts.text_for(rng, face)
            mask, base = fonts.line(rng, face, text, x_height)
            if mask is not None:
                lines.append((mask, base, text))
    elif source == "writers":
        hand = "validation-writers"
        for _ in range(n_lines):
            mask, base, text = writers.line(rng, cap * rng.uniform(0.95, 1.05))
            if mask is not None:
                lines.append((mask, base, text))
    else:
        for _ in range(n_lines):
            mask, base, text = composed.line(rng, cap * rng.uniform(0.95, 1.05))
            if mask is not None:
                lines.append((mask, base, text))
    pitch = cap * rng.uniform(1.9, 2.5)  # baseline to baseline
    margin_x, margin_top = cap * rng.uniform(1.0, 3.0), cap * rng.uniform(1.5, 3.0)
    widest = max(m.width for m, _, _ in lines)
    width = int(margin_x * 2 + widest + cap * 2.5 + rng.uniform(0, 0.3) * widest)
    height = int(margin_top * 2 + pitch * (len(lines) - 1) + cap * 2)
    if width < height * 1.2:
        width = int(height * rng.uniform(1.2, 1.5))
    alpha = np.zeros((height, width), dtype=np.float32)
    baselines = []
    for k, (mask, base, _) in enumerate(lines):
        indent = rng.uniform(0, 2.5) * cap if rng.random() < 0.4 else rng.uniform(0, 0.3) * cap
        if rng.random() < 0.08 and width - widest - 2 * margin_x > 0:  # right-aligned line
            indent = width - 2 * margin_x - mask.width
        x = int(margin_x + min(indent, max(0, width - 2 * margin_x - mask.width)))
        y_base = margin_top + cap + k * pitch + rng.normal(0, 0.05 * cap)
        region = np.zeros_like(alpha, dtype=np.uint8)
        tc.paste_max(region, mask, x, int(round(y_base - base)))
        np.maximum(alpha, region / 255.0, out=alpha)
        baselines.append(y_base)
    text = "\n".join(t for _, _, t in lines)
    ink_name = "blue" if rng.random() < 0.5 else "black"
    ink = np.array(INKS[ink_name][rng.integers(len(INKS[ink_name]))], dtype=np.float32)
    img = paper(rng, condition, (height, width), baselines, pitch, cap)
    img += (ink - img) * (alpha[..., None] * rng.uniform(0.85, 1.0))
    if condition == "shadow":
        img = shade(rng, img)
    out = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    fill = tuple(int(v) for v in np.median(img.reshape(-1, 3), axis=0))
    angle = rng.uniform(2, 5) * rng.choice([-1, 1]) if condition == "rotated" \
        else rng.uniform(1, 5) * rng.choice([-1, 1]) if condition == "notebook" \
        else rng.uniform(-1, 1)
    out = out.rotate(angle, Image.BICUBIC, expand=True, fillcolor=fill)
    if condition == "frame":
        out = framed(rng, out)
    if rng.random() < 0.5:
        out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9)))
    sigma = rng.uniform(4, 10) if condition == "jpeg" else rng.uniform(0, 3)
    if sigma > 0.5:
        a = np.asarray(out, dtype=np.float32)
        a = a + sigma * rng.standard_normal(a.shape[:2], np.float32)[..., None]
        out = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")
    return out, text, ink_name, angle, len(lines), hand


def paper(rng, condition, shape, baselines, pitch, cap):
    """The paper as an RGB float array: colour and texture, rules or grid."""
    h, w = shape
    if condition == "shadow":
        level = rng.uniform(165, 215)
        colour = np.array([level, level, level * rng.uniform(0.95, 1.0)])
    elif condition in ("rotated", "jpeg") and rng.random() < 0.5:  # a tinted notepad
        colour = np.array([rng.uniform(245, 255), rng.uniform(236, 248), rng.uniform(200, 230)])
    else:
        level = rng.uniform(235, 255)
        colour = np.array([level, level, level])
    img = np.empty((h, w, 3), dtype=np.float32)
    img[:] = colour
    img += (rng.uniform(0, 5) * tc.smooth_field(rng, (h, w), rng.uniform(8, 40)))[..., None]
    rule = np.array([150, 185, 230] if rng.random() < 0.6 else [185, 185, 190], dtype=np.float32)
    if condition in ("ruled", "notebook"):
        strength, thick = rng.uniform(0.4, 0.9), int(rng.integers(1, 3))
        drop = rng.uniform(0.0, 0.12) * cap  # the rules a little below the baselines
        first = baselines[0] + drop
        y = first % pitch
        while y < h:
            yi = int(y)
            img[yi:yi + thick] += strength * (rule - img[yi:yi + thick])
            y += pitch
        if condition == "notebook":  # a red or grey margin line, 1-3 px
            x, width = int(rng.uniform(0.4, 0.8) * cap), int(rng.integers(1, 4))
            colour = [220, 90, 90] if rng.random() < 0.6 else [150, 150, 155]
            img[:, x:x + width] += rng.uniform(0.4, 0.8) * (np.array(colour, np.float32) - img[:, x:x + width])
        elif rng.random() < 0.4:  # the red margin line
            x = int(rng.uniform(0.4, 0.8) * cap)
            img[:, x:x + 2] += 0.6 * (np.array([220, 90, 90], np.float32) - img[:, x:x + 2])
    elif condition == "grid":
        gap = cap * rng.uniform(0.5, 0.9)
        strength = rng.uniform(0.3, 0.65)
        for y in np.arange(rng.uniform(0, gap), h, gap):
            img[int(y)] += strength * (rule - img[int(y)])
        for x in np.arange(rng.uniform(0, gap), w, gap):
            img[:, int(x)] += strength * (rule - img[:, int(x)])
    return img


def shade(rng, img):
    """Uneven light and a shadow (a hand or a phone) across part of the note."""
    h, w = img.shape[:2]
    angle = rng.uniform(0, 2 * math.pi)
    ramp = (np.arange(w, dtype=np.float32)[None, :] * math.cos(angle)
            + np.arange(h, dtype=np.float32)[:, None] * math.sin(angle))
    ramp = (ramp - ramp.min()) / max(1e-6, float(ramp.max() - ramp.min()))
    light = 1.0 - rng.uniform(0.05, 0.3) * ramp
    edge_angle = rng.uniform(0, 2 * math.pi)
    d = (np.arange(w, dtype=np.float32)[None, :] - rng.uniform(0.3, 0.7) * w) * math.cos(edge_angle) \
        + (np.arange(h, dtype=np.float32)[:, None] - rng.uniform(0.3, 0.7) * h) * math.sin(edge_angle)
    soft = rng.uniform(2, 60)
    side = 1.0 / (1.0 + np.exp(np.clip(-d / soft, -30, 30)))
    light *= 1.0 - rng.uniform(0.3, 0.55) * side
    return img * light[..., None]


def framed(rng, img):
    """The paper inside a dark frame of 4-12 % of its size on each side."""
    w, h = img.size
    left, right = (int(rng.uniform(0.04, 0.12) * w) for _ in range(2))
    top, bottom = (int(rng.uniform(0.04, 0.12) * h) for _ in range(2))
    level = rng.uniform(15, 70)
    tint = np.array([1.0, rng.uniform(0.85, 1.0), rng.uniform(0.7, 1.0)]) * level
    W, H = w + left + right, h + top + bottom
    frame = np.empty((H, W, 3), dtype=np.float32)
    frame[:] = tint
    frame += (rng.uniform(2, 10) * tc.smooth_field(rng, (H, W), rng.uniform(10, 60)))[..., None]
    out = Image.fromarray(np.clip(frame, 0, 255).astype(np.uint8), "RGB")
    out.paste(img, (left, top))
    return out


def save(rng, img, condition, path_stem, small):
    """Write a note as PNG or JPEG; returns the file name."""
    grey = rng.random() < 0.3
    if grey:
        img = img.convert("L")
    if condition == "jpeg":
        quality = int(rng.integers(25, 46))
    elif rng.random() < 0.5 or small:
        quality = int(rng.integers(70, 93))
    else:
        quality = None
    if quality is None:
        name = path_stem.name + ".png"
        img.save(path_stem.with_suffix(".png"), optimize=True)
    else:
        name = path_stem.name + ".jpg"
        img.save(path_stem.with_suffix(".jpg"), "JPEG", quality=quality)
    return name


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--count", type=int, default=300, help="number of notes")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--conditions", default=",".join(CONDITIONS),
                    help="paper conditions to take in turn, comma-separated (default: the seven; "
                         "also: " + ", ".join(EXTRA_CONDITIONS) + ")")
    ap.add_argument("--sources", default=",".join(SOURCES),
                    help="sources to take in turn, comma-separated (default: font,composed; "
                         "also: " + ", ".join(EXTRA_SOURCES) + ")")
    ap.add_argument("--small", action="store_true",
                    help="smaller writing and JPEG files (for the committed fixture)")
    ap.add_argument("--data", default=str(ROOT / ".." / "shared" / "data"),
                    help="the shared data folder (text_corpus's George Washington lines)")
    ap.add_argument("--lines", default=str(ROOT / "Tests" / "Fixtures" / "lines"),
                    help="folder of the composed upper-case/digit lines")
    args = ap.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fonts = FontLines(args.data)
    composed = ComposedLines(args.lines)
    sources = args.sources.split(",")
    unknown = [c for c in sources if c not in SOURCES + EXTRA_SOURCES]
    if unknown:
        ap.error(f"unknown source {unknown[0]!r}: choose from {', '.join(SOURCES + EXTRA_SOURCES)}")
    writers = WriterLines(args.data) if "writers" in sources else None
    conditions = args.conditions.split(",")
    unknown = [c for c in conditions if c not in CONDITIONS + EXTRA_CONDITIONS]
    if unknown:
        ap.error(f"unknown condition {unknown[0]!r}: choose from {', '.join(CONDITIONS + EXTRA_CONDITIONS)}")
    rows = []
    for i in range(args.count):
        # conditions and sources in turn, so that every pair is represented
        condition = conditions[i % len(conditions)]
        source = sources[(i // len(conditions)) % len(sources)]
        rng = np.random.default_rng([args.seed, i])
        img, text, ink, angle, n, hand = make_note(rng, source, condition, fonts, composed,
                                                   args.small, writers=writers)
        name = save(rng, img, condition, out / f"note-{i:03d}", args.small)
        rows.append([name, escape(text), condition, source, ink, f"{angle:.2f}", n, hand])
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "text", "condition", "source", "ink", "angle", "lines", "hand"])
        w.writerows(rows)
    total = sum((out / r[0]).stat().st_size for r in rows)
    print(f"{len(rows)} notes, {total / 1e6:.2f} MB -> {out}")


if __name__ == "__main__":
    main()
