#!/usr/bin/env python3
"""Builds Tests/Fixtures/inputs/: the kinds of real-world images that break handwriting recognizers.

Copies the ten handed bug inputs of ../shared/bug-inputs/ unchanged (keeping their names), then writes,
for each kind of fault, inputs of our own made from the committed character fixtures
(Tests/Fixtures/chars/), with other glyphs, sizes, severities and polarities than the bug inputs:

    alpha     transparency: a card inside a transparent margin, canvas strokes on transparent
    frame     a dark frame, a table edge or a scanner lid around the paper (and a light wall
              around a blackboard)
    exif      JPEGs stored mirrored or rotated, with the EXIF Orientation that shows them upright
    cmyk      CMYK JPEGs: Adobe (inverted) as Pillow writes them, Adobe YCCK, plain non-Adobe
    shadow    phone photos: illumination gradients, shadow bands, dim light, noise, JPEG
    blank     blank scans and photos with noise and dust specks (expected EMPTY)
    strip     images too small to read (expected INVALID)
    thin-pen  1-pixel strokes on large canvases, and a very thick marker
    ruled     notebook paper with lines crossing the glyph
    grid      grid and dot-grid paper

Then line-mode inputs of the kinds alpha, frame, exif, cmyk, shadow, ruled and grid, two of each,
made from the composed lines of Tests/Fixtures/lines (each input a different line of at least four
characters, enlarged to pen strokes on a page).

Finally writes Tests/Fixtures/inputs/manifest.csv (file,expected,mode,kind,origin): expected is the
character (char mode), the line's text (line mode), the bug manifest's text for its page and line
inputs (`\\n` kept as two characters), or EMPTY (nothing written) / INVALID (too small to read).

Deterministic: the output folder is rebuilt from scratch, and every generated file draws its
randomness from its own generator, seeded with SEED and the file's name. Needs Pillow and numpy.
Run from anywhere (the argument defaults to ../shared/bug-inputs relative to the repository root):
    python3 scripts/make-input-fixtures.py [BUG_INPUTS_DIR]
"""
import csv
import functools
import shutil
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
CHARS = ROOT / "Tests/Fixtures/chars"
LINES = ROOT / "Tests/Fixtures/lines"
OUT = ROOT / "Tests/Fixtures/inputs"
SEED = 20240611

# Kind slug of each handed bug input; the bug manifest's "kind of fault" column is prose.
BUG_KINDS = {
    "03-alpha-white-card-transparent-margin.png": "alpha",
    "06-dark-frame-around-paper-char.png": "frame",
    "08-two-lines.png": "two-lines",
    "09-two-words-with-space.png": "word-space",
    "10-exif-orientation-6.jpg": "exif",
    "13-cmyk.jpg": "cmyk",
    "15-photo-uneven-light-pencil.jpg": "shadow",
    "18-blank-scan-noise-specks.jpg": "blank",
    "19b-one-row-strip.png": "strip",
    "27-thin-pen-1px.png": "thin-pen",
}

PAPER = 244.0
BLACK_INK = (28, 28, 34)
BLUE_INK = (32, 48, 135)
WHITE_PAPER = (246, 245, 240)


# ---------------------------------------------------------------------------------------------
# Glyphs, masks and compositing. Masks are float32 arrays in [0, 1]: 1 = full ink (or coverage).


def rng_for(name):
    """The random generator of one output file: seeded by SEED and the file name."""
    return np.random.default_rng([SEED, zlib.crc32(name.encode())])


def smoothstep(lo, hi, x):
    """0 below lo, 1 above hi, a smooth cubic between."""
    t = np.clip((x - lo) / (hi - lo), 0, 1)
    return t * t * (3 - 2 * t)


def ink_mask(path):
    """The ink of a character or line fixture as a mask cropped to the ink, whatever its polarity.

    The paper level is the median of the border pixels; fixtures whose paper is dark (light ink on
    black, as canvas, MNIST and EMNIST store them) are read the other way round. Faint paper texture
    and compression haze below 15% of the ink contrast are dropped.
    """
    g = np.asarray(Image.open(path).convert("L"), np.float32)
    paper = np.median(np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]]))
    ink = np.percentile(g, 0.5) if paper >= 128 else np.percentile(g, 99.5)
    m = np.clip((np.clip((g - paper) / (ink - paper), 0, 1) - 0.15) / 0.85, 0, 1)
    ys, xs = np.nonzero(m > 0.2)
    return np.pad(m[ys.min():ys.max() + 1, xs.min():xs.max() + 1], 2)  # keep the faint outer edge


def glyph(fixture, height):
    """The fixture's ink mask scaled to `height` pixels high (aspect kept; the 2-pixel pad included).

    Enlarged glyphs would show their source pixels as steps and soft edges: they are blurred over
    about half a source pixel, then re-sharpened into crisp pen edges.
    """
    m = ink_mask(CHARS / fixture)
    h, w = m.shape
    scale = height / h
    im = Image.fromarray(np.uint8(np.rint(m * 255))).resize((max(1, round(w * scale)), height),
                                                             Image.Resampling.BICUBIC)
    if scale <= 1.5:
        return np.asarray(im, np.float32) / 255
    out = np.asarray(im.filter(ImageFilter.GaussianBlur(0.4 * scale)), np.float32) / 255
    return smoothstep(0.35, 0.65, out)


@functools.cache
def line_texts():
    """The text of each line fixture, from Tests/Fixtures/lines/manifest.csv."""
    with open(LINES / "manifest.csv", newline="") as f:
        return {row["path"]: row["text"] for row in csv.DictReader(f)}


def line_ink(line, scale):
    """The ink mask of a composed line fixture enlarged `scale` times with crisp pen edges, and its text.

    The lines are stored 28 pixels high, light ink on black, their glyphs at different ink levels.
    As in glyph(), the enlarged line is blurred over about half a source pixel; then each stroke is
    cut at 60% of its local peak and keeps that peak as its ink level: strokes come out about 7 to
    10 pixels wide at 3 to 3.8 times, and a faint glyph stays faint instead of vanishing (as a cut
    at one level for the whole line would make it) or turning black.
    """
    text = line_texts()[line]
    assert len(text) >= 4, f"{line}: too short for a line input"
    m = ink_mask(LINES / line)
    h, w = m.shape
    im = Image.fromarray(np.uint8(np.rint(m * 255))).resize((round(w * scale), round(h * scale)),
                                                             Image.Resampling.BICUBIC)
    im = im.filter(ImageFilter.GaussianBlur(0.4 * scale))
    soft = np.asarray(im, np.float32) / 255
    peak = np.asarray(im.filter(ImageFilter.MaxFilter(2 * round(scale) + 1)), np.float32) / 255
    edges = smoothstep(0.5, 0.7, soft / np.maximum(peak, 1e-6))
    return np.where(peak > 0.1, edges * peak, 0).astype(np.float32), text


def placed(shape, mask, center):
    """A canvas-sized mask with `mask` centred at `center` (y, x)."""
    out = np.zeros(shape[:2], np.float32)
    gh, gw = mask.shape
    y0, x0 = round(center[0] - gh / 2), round(center[1] - gw / 2)
    assert 0 <= y0 and 0 <= x0 and y0 + gh <= shape[0] and x0 + gw <= shape[1], "glyph off canvas"
    out[y0:y0 + gh, x0:x0 + gw] = mask
    return out


def fill(shape, value):
    """A float canvas of `shape` (h, w) filled with a grey level or a colour tuple."""
    value = np.asarray(value, np.float32)
    return np.broadcast_to(value, tuple(shape[:2]) + value.shape).copy()


def blend(base, color, mask):
    """`base` with `color` (grey level or colour tuple) laid over it with coverage `mask`."""
    color = np.asarray(color, np.float32)
    m = mask[..., None] if base.ndim == 3 else mask
    return base * (1 - m) + color * m


def lit(base, light):
    """`base` under an illumination field (1 = full light), colour or grey."""
    return base * (light[..., None] if base.ndim == 3 else light)


def noisy(base, rng, sigma, blur=1.0):
    """`base` plus Gaussian sensor noise of standard deviation `sigma`, smoothed over `blur` pixels."""
    n = rng.normal(0, 1, base.shape).astype(np.float32)
    if blur > 1:
        n = smooth_field(n, blur)
    return base + sigma * n / max(n.std(), 1e-6)


def smooth_field(values, scale):
    """A copy of a 2-D or 3-D array blurred by box-averaging down `scale` times and back up."""
    h, w = values.shape[:2]
    small = (max(1, round(w / scale)), max(1, round(h / scale)))
    planes = values[..., None] if values.ndim == 2 else values
    out = [np.asarray(Image.fromarray(planes[..., i]).resize(small, Image.Resampling.BOX)
                      .resize((w, h), Image.Resampling.BICUBIC)) for i in range(planes.shape[2])]
    return np.stack(out, -1)[..., 0] if values.ndim == 2 else np.stack(out, -1)


def low_frequency(rng, shape, scale):
    """Smooth random field in about [-1, 1] varying over `scale` pixels (paper, lid, wood texture)."""
    field = smooth_field(rng.normal(0, 1, shape[:2]).astype(np.float32), scale)
    return field / max(np.abs(field).max(), 1e-6)


def ramp(shape, angle, lo, hi):
    """A linear gradient from `lo` to `hi` across the canvas along `angle` degrees (0 = left to right)."""
    h, w = shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    a = np.deg2rad(angle)
    d = x * np.cos(a) + y * np.sin(a)
    t = (d - d.min()) / (d.max() - d.min())
    return lo + (hi - lo) * t


def band(shape, through, angle, width, soft):
    """Coverage of a straight band `width` wide through (y, x) along `angle` degrees, with soft edges."""
    h, w = shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    a = np.deg2rad(angle)
    d = np.abs(-(x - through[1]) * np.sin(a) + (y - through[0]) * np.cos(a))
    return 1 - smoothstep(width / 2 - soft, width / 2 + soft, d)


def drawn(shape, draw, scale=4):
    """Anti-aliased coverage: `draw(ImageDraw, scale)` paints `scale` times larger, then box-averaged down."""
    h, w = shape[:2]
    im = Image.new("L", (w * scale, h * scale), 0)
    draw(ImageDraw.Draw(im), scale)
    return np.asarray(im.resize((w, h), Image.Resampling.BOX), np.float32) / 255


def rounded_rect(shape, box, radius):
    """Coverage of a rounded rectangle box = (x0, y0, x1, y1)."""
    return drawn(shape, lambda d, s: d.rounded_rectangle([c * s for c in box], radius * s, fill=255))


def polylines(shape, lines, width):
    """Coverage of polylines [(x, y), ...] drawn `width` pixels wide; wide ones get a round pen tip."""
    def draw(d, s):
        r = width * s / 2
        for line in lines:
            pts = [(x * s, y * s) for x, y in line]
            d.line(pts, fill=255, width=max(1, round(width * s)))
            if width > 2:
                for x, y in pts:
                    d.ellipse([x - r, y - r, x + r, y + r], fill=255)
    return drawn(shape, draw)


def dots(shape, centers):
    """Coverage of round dots [(y, x, radius), ...]."""
    def draw(d, s):
        for y, x, r in centers:
            d.ellipse([(x - r) * s, (y - r) * s, (x + r) * s, (y + r) * s], fill=255)
    return drawn(shape, draw)


def specks(rng, shape, count, margin=40):
    """Coverage of `count` dust specks of 1 to 5 pixels, darker in the middle, away from the edges."""
    h, w = shape[:2]
    centers = [(rng.uniform(margin, h - margin), rng.uniform(margin, w - margin), rng.uniform(0.6, 2.4))
               for _ in range(count)]
    return dots(shape, centers) * rng.uniform(0.45, 0.85)


def skeleton(binary):
    """Zhang-Suen thinning of a boolean image to 1-pixel-wide lines."""
    img = np.pad(binary.astype(np.uint8), 1)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            p2, p3, p4 = img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:]
            p5, p6, p7 = img[2:, 2:], img[2:, 1:-1], img[2:, :-2]
            p8, p9 = img[1:-1, :-2], img[:-2, :-2]
            ring = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
            neighbours = sum(p.astype(np.int32) for p in ring[:8])
            transitions = sum(((a == 0) & (b == 1)).astype(np.int32) for a, b in zip(ring, ring[1:]))
            if step == 0:
                keep = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                keep = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            remove = (img[1:-1, 1:-1] == 1) & (2 <= neighbours) & (neighbours <= 6) & (transitions == 1)
            remove &= keep
            if remove.any():
                img[1:-1, 1:-1][remove] = 0
                changed = True
    return img[1:-1, 1:-1].astype(bool)


def thin_glyph(fixture, height):
    """The fixture's glyph, `height` pixels high, thinned to a 1-pixel centre line."""
    m = glyph(fixture, height)
    return skeleton(smooth_field(m, 3) > 0.45).astype(np.float32)


def hand_stroke(rng, points, jitter, steps=24):
    """A hand-drawn version of a straight polyline: resampled, with a smooth random wobble."""
    out = []
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        t = np.linspace(0, 1, steps)[:-1]
        out += list(zip(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
    out.append(points[-1])
    wobble = np.cumsum(np.cumsum(rng.normal(0, 1, (len(out), 2)), 0), 0)  # integrated twice: smooth
    wobble -= np.linspace(wobble[0], wobble[-1], len(out))  # ends stay where they were meant to be
    wobble *= jitter / max(np.abs(wobble).max(), 1e-6)
    return [(x + dx, y + dy) for (x, y), (dx, dy) in zip(out, wobble)]


# ---------------------------------------------------------------------------------------------
# Writing files.


def to_bytes(arr):
    """A float image as uint8, rounded and clipped."""
    return np.uint8(np.clip(np.rint(arr), 0, 255))


def save(arr, name, **options):
    """Writes a float array (grey, LA, RGB or RGBA by its channels) as Tests/Fixtures/inputs/`name`."""
    im = Image.fromarray(to_bytes(arr))
    if name.endswith(".png"):
        im.save(OUT / name, optimize=True)
    else:
        im.save(OUT / name, quality=options.pop("quality", 85), **options)
    return name


def rgba(color, alpha):
    """An RGBA float image from a colour canvas and an alpha mask (0..1)."""
    return np.concatenate([color, alpha[..., None] * 255], -1)


def cmyk_image(ink):
    """A Pillow CMYK image from ink amounts (h, w, 4), 0 = no ink, 255 = full ink."""
    h, w = ink.shape[:2]
    return Image.frombytes("CMYK", (w, h), to_bytes(ink).tobytes())


def jpeg_segments(data):
    """Splits a JPEG into its header segments [(marker, payload)] up to SOS, and the entropy-coded rest."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    pos, segments = 2, []
    while True:
        marker, length = data[pos + 1], int.from_bytes(data[pos + 2:pos + 4], "big")
        segments.append((marker, bytearray(data[pos + 4:pos + 2 + length])))
        pos += 2 + length
        if marker == 0xDA:
            return segments, data[pos:]


def jpeg_join(segments, rest):
    """Reassembles a JPEG from jpeg_segments' parts."""
    head = b"".join(b"\xff" + bytes([m]) + (len(p) + 2).to_bytes(2, "big") + bytes(p) for m, p in segments)
    return b"\xff\xd8" + head + rest


def is_adobe(marker, payload):
    """True for the Adobe APP14 segment."""
    return marker == 0xEE and payload.startswith(b"Adobe")


def save_plain_cmyk(ink, name, quality):
    """Writes a CMYK JPEG without the Adobe marker, storing plain ink amounts (0 = no ink).

    There is no agreed convention for such files: plain amounts are what libjpeg and PDF DeviceCMYK
    mean (and what hwr's decoder assumes without the marker), while Pillow and web browsers take
    every CMYK JPEG as inverted and show this one as a negative (a light Q on black).
    Pillow always writes CMYK inverted with an Adobe APP14 marker, so it is given the inverted ink
    (which it inverts back on writing) and the marker is cut out.
    """
    path = OUT / name
    cmyk_image(255 - ink).save(path, quality=quality)
    segments, rest = jpeg_segments(path.read_bytes())
    path.write_bytes(jpeg_join([s for s in segments if not is_adobe(*s)], rest))
    return name


def save_ycck(ink, name, quality):
    """Writes an Adobe YCCK JPEG (APP14 transform 2), as Photoshop writes CMYK.

    As libjpeg does for YCCK, the inverted-CMYK convention of Adobe files is kept: the stored
    components are Y, Cb, Cr of the ink amounts (C, M, Y) taken as (R, G, B), and K inverted.
    Pillow (which inverts CMYK on writing) is given their inverses, then the Adobe transform is set
    to 2 and the component ids to 1-4 as libjpeg writes them for YCCK.
    """
    c, m, y, k = (ink[..., i] for i in range(4))
    lum = 0.299 * c + 0.587 * m + 0.114 * y
    cb = -0.168736 * c - 0.331264 * m + 0.5 * y + 128
    cr = 0.5 * c - 0.418688 * m - 0.081312 * y + 128
    stored = np.stack([lum, cb, cr, 255 - k], -1)
    path = OUT / name
    cmyk_image(255 - stored).save(path, quality=quality)
    segments, rest = jpeg_segments(path.read_bytes())
    for marker, payload in segments:
        if is_adobe(marker, payload):
            payload[11] = 2
        elif marker == 0xC0:  # SOF0: 6 bytes, then (id, sampling, table) per component
            for i in range(payload[5]):
                payload[6 + 3 * i] = i + 1
        elif marker == 0xDA:  # SOS: count, then (id, tables) per component
            for i in range(payload[0]):
                payload[1 + 2 * i] = i + 1
    path.write_bytes(jpeg_join(segments, rest))
    return name


# Transpose that stores an upright image so that applying EXIF Orientation `o` shows it upright:
# the inverse of what the viewer (e.g. PIL.ImageOps.exif_transpose) applies.
STORE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def save_oriented(upright, name, orientation, quality=88):
    """Writes a JPEG whose pixels are stored turned so that its EXIF Orientation shows `upright`."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    im = Image.fromarray(to_bytes(upright)).transpose(STORE_FOR_ORIENTATION[orientation])
    im.save(OUT / name, quality=quality, exif=exif.tobytes())
    return name


# ---------------------------------------------------------------------------------------------
# The kinds. Each returns [(file, expected)] for the files it wrote.


def alpha():
    """Transparency: cards in transparent margins, canvas strokes with nothing behind them."""
    rows = []

    # A white card with dark ink; the transparent margin hides black (0, 0, 0, 0) pixels.
    shape = (340, 300)
    card = rounded_rect(shape, (26, 22, 274, 318), 30)
    ink = placed(shape, glyph("chars74k-0078.png", 190), (172, 150))
    color = np.where(card[..., None] > 0, blend(fill(shape, (250, 250, 250)), BLACK_INK, ink), 0)
    rows.append((save(rgba(color, card), "alpha-white-card-transparent-margin.png"), "A"))

    # Canvas export: black strokes whose only trace is alpha; every pixel is black.
    shape = (280, 260)
    ink = placed(shape, glyph("canvas-0002.png", 200), (140, 130))
    rows.append((save(rgba(fill(shape, (0, 0, 0)), ink), "alpha-canvas-black-strokes-only.png"), "E"))

    # The same as grey + alpha (LA) and small: a dark grey pen, white under the transparency.
    shape = (150, 130)
    ink = placed(shape, glyph("mnist-0320.png", 110), (75, 65))
    rows.append((save(np.stack([fill(shape, 255) * (1 - ink) + 40 * ink, ink * 255], -1),
                      "alpha-canvas-grey-strokes-la.png"), "3"))

    # Light polarity: white ink on an opaque dark card; the margin hides white (255, 255, 255, 0).
    shape = (300, 340)
    card = rounded_rect(shape, (20, 30, 320, 270), 24)
    ink = placed(shape, glyph("canvas-0017.png", 150), (150, 170))
    color = np.where(card[..., None] > 0, blend(fill(shape, (38, 42, 52)), (240, 240, 236), ink), 255)
    rows.append((save(rgba(color, card), "alpha-white-ink-dark-card-transparent-margin.png"), "M"))
    return rows


def frame():
    """Dark frames, a table edge and a scanner lid around the paper; a light wall around a dark board."""
    rows = []

    # A thick (36 px) near-black frame around light paper.
    name = "frame-thick-dark-border.png"
    rng = rng_for(name)
    shape = (360, 320)
    paper = 26 + 6 * low_frequency(rng, shape, 40)
    paper[36:-36, 36:-36] = 240
    ink = placed(shape, glyph("canvas-0005.png", 170), (180, 160))
    rows.append((save(blend(paper, 24, ink), name), "B"))

    # A thin (12 px) dark-grey frame, paper a little uneven, as a JPEG.
    name = "frame-thin-border.jpg"
    rng = rng_for(name)
    shape = (240, 260)
    img = 232 + 8 * low_frequency(rng, shape, 60)
    img[:12], img[-12:], img[:, :12], img[:, -12:] = 48, 48, 48, 48
    img = blend(img, 30, placed(shape, glyph("chars74k-0080.png", 130), (122, 130)))
    rows.append((save(noisy(img, rng, 3), name, quality=88), "9"))

    # A photo on a wooden table: the table shows along the left and bottom edges, the paper is skewed.
    name = "frame-table-edge-two-sides.jpg"
    rng = rng_for(name)
    shape = (340, 380)
    grain = np.repeat(low_frequency(rng, (shape[0], shape[1] // 8 + 1), 3), 8, 1)[:, :shape[1]]
    wood = fill(shape, (92, 60, 38)) * (1 + 0.18 * grain[..., None])
    sheet = drawn(shape, lambda d, s: d.polygon([(58 * s, -20 * s), (420 * s, -20 * s), (420 * s, 290 * s),
                                                 (70 * s, 300 * s)], fill=255))
    img = blend(wood, WHITE_PAPER, sheet)
    img = blend(img, BLACK_INK, placed(shape, glyph("canvas-0021.png", 170), (140, 230)))
    img = lit(img, ramp(shape, 30, 1.02, 0.85))
    rows.append((save(noisy(img, rng, 4), name, quality=85), "T"))

    # Paper on a flatbed scanner smaller than its glass: mid-grey textured lid around it, off-centre.
    name = "frame-scanner-lid-grey.jpg"
    rng = rng_for(name)
    shape = (360, 400)
    img = 128 + 10 * low_frequency(rng, shape, 12)
    img[30:318, 24:262] = 246
    img = blend(img, 34, placed(shape, glyph("mnist-0310.png", 160), (170, 143)))
    rows.append((save(noisy(img, rng, 3), name, quality=85), "8"))

    # Light polarity: a blackboard with chalk, a light wall around it.
    name = "frame-light-wall-around-blackboard.png"
    rng = rng_for(name)
    shape = (300, 340)
    img = fill(shape, (224, 222, 214))
    img[28:-28, 28:-28] = (46, 58, 52)
    dusty = 0.75 + 0.25 * (rng.random(shape) > 0.3)
    chalk = placed(shape, glyph("canvas-0026.png", 160), (150, 170)) * dusty
    rows.append((save(blend(img, (235, 235, 228), chalk), name), "G"))
    return rows


def exif():
    """JPEGs stored mirrored or turned, with the EXIF Orientation that shows them upright."""
    cases = [  # orientation, glyph, expected, colour
        (2, "canvas-0037.png", "J", False),   # mirrored: a J reads backwards
        (3, "mnist-0316.png", "6", False),    # upside down: the stored pixels look like a 9
        (4, "chars74k-0055.png", "T", False),  # flipped top to bottom
        (5, "chars74k-0063.png", "F", True),
        (6, "chars74k-0069.png", "L", True),
        (7, "canvas-0030.png", "G", False),
        (8, "canvas-0016.png", "N", True),    # turned: the stored pixels look like a Z
    ]
    rows = []
    for orientation, fixture, expected, colour in cases:
        name = f"exif-orientation-{orientation}.jpg"
        rng = rng_for(name)
        shape = (rng.integers(300, 360), rng.integers(230, 280))
        paper = fill(shape, WHITE_PAPER if colour else PAPER)
        ink = placed(shape, glyph(fixture, 180), (shape[0] / 2, shape[1] / 2))
        img = blend(paper, BLUE_INK if colour else 30, ink)
        img = lit(img, ramp(shape, rng.uniform(0, 360), 1.0, 0.9))
        rows.append((save_oriented(noisy(img, rng, 2), name, orientation), expected))
    return rows


def cmyk():
    """CMYK JPEGs: Adobe (inverted) K-only and process-blue ink, Adobe YCCK, plain (non-Adobe) CMYK."""
    rows = []

    def ink_page(shape, fixture, height, ink, paper=(0, 0, 0, 0)):
        """Ink amounts of a page: the glyph in CMYK `ink` over CMYK `paper`."""
        mask = placed(shape, glyph(fixture, height), (shape[0] / 2, shape[1] / 2))
        return blend(fill(shape, paper), ink, mask)

    name = "cmyk-adobe-black-only.jpg"
    cmyk_image(ink_page((300, 260), "chars74k-0056.png", 200, (0, 0, 0, 235))).save(OUT / name, quality=90)
    rows.append((name, "N"))

    # A blue ballpoint scanned to CMYK: almost nothing in K, so a K-only reading sees no ink.
    name = "cmyk-adobe-blue-ballpoint.jpg"
    page = ink_page((240, 220), "mnist-0328.png", 170, (220, 170, 30, 70), paper=(3, 3, 10, 0))
    cmyk_image(page).save(OUT / name, quality=88)
    rows.append((name, "8"))

    name = "cmyk-ycck-adobe.jpg"
    page = ink_page((280, 280), "canvas-0036.png", 190, (160, 140, 130, 210))  # rich black
    rows.append((save_ycck(page, name, 88), "D"))

    name = "cmyk-plain-no-adobe-marker.jpg"
    page = ink_page((260, 300), "chars74k-0083.png", 180, (60, 40, 40, 220))
    rows.append((save_plain_cmyk(page, name, 88), "Q"))
    return rows


def shadow():
    """Phone photos: pencil under a gradient and shadow band, pen under a hard shadow, dim light, chalk."""
    rows = []

    # Pencil (grey, grainy, thin-ish) on paper, light falling off to one corner, a shadow band across.
    name = "shadow-pencil-gradient-band.jpg"
    rng = rng_for(name)
    shape = (640, 640)
    grain = np.clip(0.55 + 0.45 * rng.random(shape) + 0.2 * low_frequency(rng, shape, 6), 0, 1)
    img = blend(fill(shape, 228), 95, placed(shape, glyph("canvas-0014.png", 300), (330, 310)) * grain)
    light = ramp(shape, 50, 1.05, 0.58) * (1 - 0.38 * band(shape, (320, 320), -60, 150, 45))
    rows.append((save(noisy(lit(img, light), rng, 4, blur=1.5), name, quality=78), "A"))

    # Pen on warm paper, the hard shadow of the phone over the right part of the glyph, vignetting.
    name = "shadow-pen-phone-hard-shadow.jpg"
    rng = rng_for(name)
    shape = (480, 560)
    ink = placed(shape, glyph("chars74k-0060.png", 260), (245, 280))
    img = blend(fill(shape, (236, 228, 212)), (40, 40, 62), ink)
    y, x = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    vignette = 1 - 0.35 * (((y - 200) / 480) ** 2 + ((x - 250) / 520) ** 2) * 2.2
    shade = 1 - 0.52 * smoothstep(-9, 9, x - 300 - 0.35 * (y - 240))
    rows.append((save(noisy(lit(img, vignette * shade), rng, 5, blur=1.5), name, quality=75), "B"))

    # Dark ink in dim grey light: paper about 108, ink about 48, high-ISO noise.
    name = "shadow-dim-light-low-contrast.jpg"
    rng = rng_for(name)
    shape = (440, 440)
    img = blend(fill(shape, 108), 48, placed(shape, glyph("canvas-0019.png", 230), (220, 220)))
    img = img + 10 * ramp(shape, 120, -1, 1)
    rows.append((save(noisy(img, rng, 6, blur=1.2), name, quality=80), "H"))

    # Light polarity: chalk on a blackboard, a bright reflection on one side.
    name = "shadow-chalk-board-glare.jpg"
    rng = rng_for(name)
    shape = (420, 480)
    y, x = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    board = 44 + 70 * np.exp(-(((x - 60) / 170) ** 2 + ((y - 90) / 150) ** 2))
    dusty = np.clip(0.5 + 0.6 * rng.random(shape), 0, 1)
    chalk = placed(shape, glyph("canvas-0032.png", 240), (215, 240)) * dusty
    rows.append((save(noisy(blend(board, 205, chalk), rng, 5, blur=1.2), name, quality=80), "E"))
    return rows


def blank():
    """Nothing written: blank scans and photos with sensor noise, dust specks, a shadow."""
    rows = []

    name = "blank-scan-specks-600x800.jpg"
    rng = rng_for(name)
    shape = (800, 600)
    img = blend(fill(shape, 240), 70, specks(rng, shape, 4))
    rows.append((save(noisy(img, rng, 2.5, blur=1.5), name, quality=82), "EMPTY"))

    name = "blank-scan-gradient-shadow-1000x750.jpg"
    rng = rng_for(name)
    shape = (750, 1000)
    img = blend(fill(shape, 238), 60, specks(rng, shape, 7))
    img = lit(img, 1 - 0.4 * smoothstep(0.45, 1, ramp(shape, 10, 0, 1)))
    rows.append((save(noisy(img, rng, 2.5, blur=1.5), name, quality=80), "EMPTY"))

    name = "blank-phone-photo-colour-700x900.jpg"
    rng = rng_for(name)
    shape = (900, 700)
    y, x = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    vignette = 1 - 0.25 * (((y - 450) / 450) ** 2 + ((x - 350) / 350) ** 2)
    img = blend(fill(shape, (232, 226, 210)), (90, 80, 70), specks(rng, shape, 3))
    rows.append((save(noisy(lit(img, vignette), rng, 4, blur=1.5), name, quality=78), "EMPTY"))

    # Light polarity: an empty blackboard with a little chalk dust.
    name = "blank-blackboard-dust-640x640.jpg"
    rng = rng_for(name)
    shape = (640, 640)
    img = blend(48 + 6 * low_frequency(rng, shape, 80), 170, specks(rng, shape, 5))
    rows.append((save(noisy(img, rng, 3, blur=1.5), name, quality=80), "EMPTY"))
    return rows


def strip():
    """Too small to read: one-pixel slices through a glyph, a glyph shrunk to 5x5."""
    rows = []
    scene = blend(fill((200, 200), PAPER), 30, placed((200, 200), glyph("canvas-0011.png", 150), (100, 100)))
    rows.append((save(scene[:, 96:97], "strip-1x200.png"), "INVALID"))

    five = Image.fromarray(to_bytes(scene)).resize((5, 5), Image.Resampling.BOX)
    rows.append((save(np.asarray(five, np.float32), "strip-5x5.png"), "INVALID"))

    shape = (300, 300)
    ink = placed(shape, glyph("chars74k-0058.png", 240), (150, 150))
    scene = blend(fill(shape, WHITE_PAPER), BLUE_INK, ink)
    rows.append((save(scene[139:142], "strip-300x3.png"), "INVALID"))
    rows.append((save(scene[:, 120:122], "strip-2x300.jpg"), "INVALID"))
    return rows


def thin_pen():
    """1-pixel pens on large canvases (traced skeletons, a stroke list) and a very thick marker."""
    rows = []

    # A hard 1-pixel black centre line of a real E on a 500-pixel canvas.
    shape = (500, 500)
    ink = placed(shape, thin_glyph("canvas-0032.png", 330), (250, 250))
    rows.append((save(blend(fill(shape, 255), 0, ink), "thin-pen-1px-skeleton-500.png"), "E"))

    # An F drawn with a 1-pixel anti-aliased pen on an 800-pixel canvas, from a stroke list.
    name = "thin-pen-1px-strokes-800.png"
    rng = rng_for(name)
    strokes = [[(300, 170), (292, 640)], [(300, 172), (530, 160)], [(296, 390), (470, 384)]]
    ink = polylines((800, 800), [hand_stroke(rng, s, 6) for s in strokes], 1)
    rows.append((save(blend(fill((800, 800), 255), 20, ink), name), "F"))

    # Light polarity: a dark-mode drawing app, a 1-pixel white line.
    shape = (450, 600)
    ink = placed(shape, thin_glyph("mnist-0337.png", 330), (225, 300))
    rows.append((save(blend(fill(shape, 18), 235, ink), "thin-pen-1px-white-on-black.png"), "3"))

    # A 1-pixel blue pen on a 700-pixel canvas, through JPEG compression.
    shape = (700, 700)
    ink = placed(shape, thin_glyph("chars74k-0078.png", 420), (350, 350))
    img = blend(fill(shape, (255, 255, 255)), BLUE_INK, ink)
    rows.append((save(img, "thin-pen-1px-blue.jpg", quality=85), "A"))

    # A very thick marker: 40-pixel strokes on a 400-pixel canvas.
    name = "thin-pen-thick-marker-40px.png"
    rng = rng_for(name)
    strokes = [[(105, 70), (112, 330)], [(290, 62), (295, 335)], [(110, 205), (292, 195)]]
    ink = polylines((400, 400), [hand_stroke(rng, s, 5) for s in strokes], 40)
    rows.append((save(blend(fill((400, 400), 255), 15, ink), name), "H"))
    return rows


def ruled_page(shape, spacing, first, color, width=1.0, margin=None):
    """Colour page of ruled notebook paper: horizontal lines every `spacing` pixels, optional red margin."""
    h, w = shape
    page = fill(shape, WHITE_PAPER)
    lines = [[(0, y), (w, y)] for y in np.arange(first, h, spacing)]
    page = blend(page, color, polylines(shape, lines, width) * 0.9)
    if margin is not None:
        page = blend(page, (226, 120, 120), polylines(shape, [[(margin, 0), (margin, h)]], 1.5) * 0.8)
    return page


def ruled():
    """Glyphs on ruled notebook paper, the lines crossing them."""
    rows = []

    # Light blue college ruling every 34 px and a red margin; the glyph spans several lines.
    shape = (400, 400)
    page = ruled_page(shape, 34, 40, (150, 185, 225), margin=62)
    ink = placed(shape, glyph("canvas-0023.png", 150), (205, 215))
    rows.append((save(blend(page, BLUE_INK, ink), "ruled-notebook-blue-lines.png"), "B"))

    # Grey lines every 30 px on a grey scan, a pencil glyph between two lines with one through it.
    name = "ruled-grey-lines-pencil-scan.jpg"
    rng = rng_for(name)
    shape = (300, 360)
    page = ruled_page(shape, 30, 21, (175, 175, 175)).mean(-1)
    grain = np.clip(0.6 + 0.4 * rng.random(shape), 0, 1)
    ink = placed(shape, glyph("mnist-0345.png", 62), (158, 180)) * grain
    rows.append((save(noisy(blend(page, 90, ink), rng, 2.5), name, quality=85), "6"))

    # Darker, thicker (2 px) lines every 38 px; a small glyph sitting on a line, one through it.
    shape = (260, 320)
    page = ruled_page(shape, 38, 30, (120, 145, 190), width=2)
    ink = placed(shape, glyph("canvas-0003.png", 66), (125, 160))
    rows.append((save(blend(page, BLACK_INK, ink), "ruled-dark-lines-small-glyph.png"), "M"))
    return rows


def grid():
    """Glyphs on squared, engineering and dot-grid paper."""
    rows = []

    # 5 mm squares (24 px), light blue.
    shape = (360, 360)
    lines = [[(x, 0), (x, 360)] for x in range(10, 360, 24)]
    lines += [[(0, y), (360, y)] for y in range(10, 360, 24)]
    page = blend(fill(shape, WHITE_PAPER), (140, 180, 220), polylines(shape, lines, 1) * 0.8)
    ink = placed(shape, glyph("canvas-0025.png", 190), (180, 180))
    rows.append((save(blend(page, BLACK_INK, ink), "grid-squared-paper.png"), "D"))

    # Green engineering paper: fine lines every 20 px, bolder every 100 px; a JPEG photo.
    name = "grid-engineering-paper.jpg"
    rng = rng_for(name)
    shape = (340, 300)
    fine = [[(x, 0), (x, 340)] for x in range(5, 300, 20)] + [[(0, y), (300, y)] for y in range(5, 340, 20)]
    bold = [[(x, 0), (x, 340)] for x in range(5, 300, 100)] + [[(0, y), (300, y)] for y in range(5, 340, 100)]
    page = blend(fill(shape, (238, 242, 228)), (150, 190, 150), polylines(shape, fine, 1) * 0.8)
    page = blend(page, (110, 160, 110), polylines(shape, bold, 2))
    ink = placed(shape, glyph("chars74k-0057.png", 200), (170, 150))
    img = lit(blend(page, BLUE_INK, ink), ramp(shape, 80, 1.0, 0.88))
    rows.append((save(noisy(img, rng, 3), name, quality=85), "J"))

    # Dot grid (bullet journal): grey dots every 25 px.
    shape = (320, 320)
    page = blend(fill(shape, WHITE_PAPER), 120,
                 dots(shape, [(y, x, 1.6) for y in range(10, 320, 25) for x in range(10, 320, 25)]))
    ink = placed(shape, glyph("chars74k-0052.png", 200), (160, 160))
    rows.append((save(blend(page, BLACK_INK, ink), "grid-dot-paper.png"), "T"))
    return rows


KINDS = {"alpha": alpha, "frame": frame, "exif": exif, "cmyk": cmyk, "shadow": shadow, "blank": blank,
         "strip": strip, "thin-pen": thin_pen, "ruled": ruled, "grid": grid}


# ---------------------------------------------------------------------------------------------
# Line-mode inputs: composed lines (Tests/Fixtures/lines) on paper, under the faults of the kinds.
# Each returns [(file, expected)] like the character kinds; expected is the line's text.


def line_page(line, scale, margin):
    """A composed line enlarged `scale` times on a page with `margin` (y, x) pixels around its ink.

    Returns the page shape, the ink placed on it and the line's text.
    """
    ink, text = line_ink(line, scale)
    shape = (ink.shape[0] + 2 * margin[0], ink.shape[1] + 2 * margin[1])
    return shape, placed(shape, ink, (shape[0] / 2, shape[1] / 2)), text


def ink_rows(ink):
    """The first and last rows of a placed line's ink: its top and its baseline."""
    rows = np.nonzero(ink.max(1) > 0.3)[0]
    return rows[0], rows[-1]


def line_alpha():
    """Lines with transparency: dark canvas strokes on nothing, a white card in a transparent margin."""
    rows = []

    # Canvas export: every pixel dark navy, the strokes only in alpha.
    shape, ink, text = line_page("composed-004.png", 3.2, (60, 70))
    rows.append((save(rgba(fill(shape, (22, 26, 64)), ink), "line-alpha-canvas-dark-strokes.png"), text))

    # A white card with the line in dark ink; the transparent margin hides black (0, 0, 0, 0) pixels.
    shape, ink, text = line_page("composed-017.png", 3.6, (90, 90))
    h, w = shape
    card = rounded_rect(shape, (36, 32, w - 36, h - 32), 26)
    color = np.where(card[..., None] > 0, blend(fill(shape, (250, 250, 250)), BLACK_INK, ink), 0)
    rows.append((save(rgba(color, card), "line-alpha-white-card-transparent-margin.png"), text))
    return rows


def line_frame():
    """A paper strip on a dark desk, and a line photographed with the table along two edges."""
    rows = []

    # A strip cut from a page, a little skewed on a near-black desk: a dark frame 22-44 px wide.
    name = "line-frame-paper-strip-dark-desk.jpg"
    rng = rng_for(name)
    shape, ink, text = line_page("composed-006.png", 3.4, (85, 95))
    h, w = shape
    corners = [(24, 44), (w - 40, 26), (w - 28, h - 42), (40, h - 22)]
    strip = drawn(shape, lambda d, s: d.polygon([(x * s, y * s) for x, y in corners], fill=255))
    img = blend(30 + 8 * low_frequency(rng, shape, 30), 236, strip)
    rows.append((save(noisy(blend(img, 30, ink), rng, 3), name, quality=85), text))

    # A photo on a wooden table: the table shows along the left and bottom edges, the paper is skewed.
    name = "line-frame-table-edge.jpg"
    rng = rng_for(name)
    shape, ink, text = line_page("composed-028.png", 3.8, (70, 90))
    h, w = shape
    grain = np.repeat(low_frequency(rng, (h, w // 8 + 1), 3), 8, 1)[:, :w]
    wood = fill(shape, (92, 60, 38)) * (1 + 0.18 * grain[..., None])
    corners = [(50, -20), (w + 20, -20), (w + 20, h - 34), (62, h - 46)]
    sheet = drawn(shape, lambda d, s: d.polygon([(x * s, y * s) for x, y in corners], fill=255))
    img = blend(blend(wood, WHITE_PAPER, sheet), BLACK_INK, ink)
    img = lit(img, ramp(shape, 30, 1.02, 0.85))
    rows.append((save(noisy(img, rng, 4), name, quality=85), text))
    return rows


def line_exif():
    """Lines photographed with the phone held upright: stored turned a quarter, EXIF Orientation 6 or 8."""
    rows = []
    cases = [(6, "composed-015.png", 3.6, True), (8, "composed-040.png", 3.3, False)]  # True: blue on white
    for orientation, line, scale, colour in cases:
        name = f"line-exif-orientation-{orientation}.jpg"
        rng = rng_for(name)
        shape, ink, text = line_page(line, scale, (70, 80))
        img = blend(fill(shape, WHITE_PAPER if colour else PAPER), BLUE_INK if colour else 30, ink)
        img = lit(img, ramp(shape, rng.uniform(0, 360), 1.0, 0.9))
        rows.append((save_oriented(noisy(img, rng, 2), name, orientation), text))
    return rows


def line_cmyk():
    """Adobe CMYK JPEGs as Pillow writes them (inverted): black in K only, a blue ballpoint in C, M and Y."""
    rows = []

    name = "line-cmyk-adobe-black-only.jpg"
    shape, ink, text = line_page("composed-029.png", 3.3, (60, 70))
    cmyk_image(blend(fill(shape, (0, 0, 0, 6)), (0, 0, 0, 235), ink)).save(OUT / name, quality=90)
    rows.append((name, text))

    # A blue ballpoint scanned to CMYK: almost nothing in K, so a K-only reading sees no ink.
    name = "line-cmyk-adobe-blue-ballpoint.jpg"
    shape, ink, text = line_page("composed-052.png", 3.5, (60, 70))
    cmyk_image(blend(fill(shape, (3, 3, 10, 0)), (220, 170, 30, 70), ink)).save(OUT / name, quality=88)
    rows.append((name, text))
    return rows


def line_shadow():
    """Phone photos of a line: the phone's hard shadow over part of it, pencil under a light gradient."""
    rows = []

    # Pen on warm paper, vignetting, and the hard shadow of the phone over the right part of the line,
    # its slanting edge crossing a glyph.
    name = "line-shadow-phone-hard-shadow.jpg"
    rng = rng_for(name)
    shape, ink, text = line_page("composed-019.png", 3.2, (75, 80))
    h, w = shape
    img = blend(fill(shape, (236, 228, 212)), (40, 40, 62), ink)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    vignette = 1 - 0.6 * (((y - 0.4 * h) / h) ** 2 + ((x - 0.45 * w) / w) ** 2)
    shade = 1 - 0.52 * smoothstep(-6, 6, x - 0.6 * w - 0.4 * (y - h / 2))
    rows.append((save(noisy(lit(img, vignette * shade), rng, 5, blur=1.5), name, quality=75), text))

    # Pencil (grey, grainy) on paper, the light falling off by half from one end of the line to the other.
    name = "line-shadow-pencil-gradient.jpg"
    rng = rng_for(name)
    shape, ink, text = line_page("composed-053.png", 3.5, (70, 80))
    grain = np.clip(0.55 + 0.45 * rng.random(shape) + 0.2 * low_frequency(rng, shape, 6), 0, 1)
    img = blend(fill(shape, 228), 95, ink * grain)
    img = lit(img, ramp(shape, 15, 1.05, 0.55))
    rows.append((save(noisy(img, rng, 4, blur=1.5), name, quality=78), text))
    return rows


def line_ruled():
    """Lines on ruled notebook paper, written on a rule (the baseline); the next one grazes or crosses them."""
    rows = []

    # Light blue college ruling and a red margin; the line sits on a rule, the next rule runs just over it.
    shape, ink, text = line_page("composed-027.png", 3.5, (80, 100))
    top, baseline = ink_rows(ink)
    spacing = round(1.1 * (baseline - top))
    page = ruled_page(shape, spacing, (baseline - 2) % spacing, (150, 185, 225), margin=60)
    rows.append((save(blend(page, BLUE_INK, ink), "line-ruled-notebook-baseline.png"), text))

    # Writing too big for narrow grey ruling, in pencil, scanned: a rule under the line and one through it.
    name = "line-ruled-grey-pencil-scan.jpg"
    rng = rng_for(name)
    shape, ink, text = line_page("composed-064.png", 3.0, (70, 80))
    top, baseline = ink_rows(ink)
    spacing = round(0.6 * (baseline - top))
    page = ruled_page(shape, spacing, (baseline - 1) % spacing, (175, 175, 175)).mean(-1)
    grain = np.clip(0.6 + 0.4 * rng.random(shape), 0, 1)
    rows.append((save(noisy(blend(page, 90, ink * grain), rng, 2.5), name, quality=85), text))
    return rows


def line_grid():
    """Lines on squared paper and, photographed, on dot-grid paper."""
    rows = []

    # 5 mm squares (28 px), light blue: the line is about three squares high.
    shape, ink, text = line_page("composed-041.png", 3.4, (70, 80))
    h, w = shape
    lines = [[(x, 0), (x, h)] for x in range(12, w, 28)] + [[(0, y), (w, y)] for y in range(12, h, 28)]
    page = blend(fill(shape, WHITE_PAPER), (140, 180, 220), polylines(shape, lines, 1) * 0.8)
    rows.append((save(blend(page, BLACK_INK, ink), "line-grid-squared-paper.png"), text))

    # Dot grid (bullet journal), grey dots every 24 px, blue ink, a phone photo.
    name = "line-grid-dot-paper.jpg"
    rng = rng_for(name)
    shape, ink, text = line_page("composed-065.png", 3.1, (66, 76))
    h, w = shape
    grid_dots = [(y, x, 1.6) for y in range(8, h, 24) for x in range(8, w, 24)]
    page = blend(fill(shape, WHITE_PAPER), 120, dots(shape, grid_dots))
    img = lit(blend(page, BLUE_INK, ink), ramp(shape, 100, 1.0, 0.88))
    rows.append((save(noisy(img, rng, 3), name, quality=85), text))
    return rows


LINE_KINDS = {"alpha": line_alpha, "frame": line_frame, "exif": line_exif, "cmyk": line_cmyk,
              "shadow": line_shadow, "ruled": line_ruled, "grid": line_grid}


# ---------------------------------------------------------------------------------------------


def bug_expected(text):
    """The manifest's expected value for a bug input's `expected` text: the text, EMPTY or INVALID."""
    if not text.startswith("("):
        return text
    if "nothing written" in text:
        return "EMPTY"
    if "too small" in text:
        return "INVALID"
    raise ValueError(f"unknown expected value {text!r}")


def copy_bug_inputs(source):
    """Copies the handed bug inputs into OUT and returns their manifest rows."""
    rows = []
    with open(source / "manifest.csv", newline="") as f:
        bugs = list(csv.DictReader(f))
    assert {b["file"] for b in bugs} == set(BUG_KINDS), "bug manifest and BUG_KINDS disagree"
    for b in bugs:
        shutil.copyfile(source / b["file"], OUT / b["file"])
        rows.append((b["file"], bug_expected(b["expected"]), b["mode"], BUG_KINDS[b["file"]], "bug-inputs"))
    return rows


def main():
    """Rebuilds OUT: the bug inputs, the generated inputs of every kind, then manifest.csv."""
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "../shared/bug-inputs"
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    rows = copy_bug_inputs(source)
    for mode, kinds in (("char", KINDS), ("line", LINE_KINDS)):
        for kind, make in kinds.items():
            rows += [(file, expected, mode, kind, "generated") for file, expected in make()]
    with open(OUT / "manifest.csv", "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(("file", "expected", "mode", "kind", "origin"))
        out.writerows(rows)
    size = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"{len(rows)} inputs in {OUT.relative_to(ROOT)} ({size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
