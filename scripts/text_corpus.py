#!/usr/bin/env python3
"""Build a synthetic handwritten text-line corpus for hwr's CRNN+CTC line model.

Two kinds of lines are made:

* ``font`` lines: text rendered glyph by glyph in a handwriting font, each glyph with its own small
  offset, rotation, scale and spacing jitter, then the whole line slanted, given a wobbling
  baseline, a stroke-width change and a mild elastic distortion.
* ``composed`` lines: words built from real handwritten character images
  (``<data>/chars/manifest.csv``), one writer per line where possible, placed by character class
  (x-height letters, ascenders, descenders), with punctuation rendered in a handwriting font.

Both then get the same paper conditions: plain, ruled or grid paper, ink colour, illumination
gradient, specks, blur, noise and JPEG artefacts, and are written as 8-bit grayscale PNGs cropped to
the text.  Three whole font families (HELD_OUT_FAMILIES) and 15 % of the writers (or, for sources
without writer ids, of the images) are held out for validation and never appear in training lines.

Every line is drawn from a random generator seeded with (seed, split, kind, line index), so the
same seed gives the same files whatever the number of workers.

Usage (normally through scripts/build-text-corpus.sh, which installs the fonts first)::

    python3 scripts/text_corpus.py --out ~/hwr-corpus/v1 --seed 1

Output: OUT/images/{train,val-font,val-composed}/NNNNNNN.png, OUT/manifest.csv
(path,text,kind,split,font,writer), OUT/fonts.csv, OUT/README.txt and OUT/samples.png.
"""

import argparse
import csv
import hashlib
import importlib.metadata
import io
import logging
import math
import multiprocessing
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps
from fontTools.ttLib import TTFont
from scipy import ndimage

# --------------------------------------------------------------------------------------------------
# Character set and constants
# --------------------------------------------------------------------------------------------------

DIGITS = "0123456789"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = "abcdefghijklmnopqrstuvwxyz"
PUNCT = ".,;:'\"!?-()/&+#%"
CHARSET = frozenset(DIGITS + UPPER + LOWER + " " + PUNCT)
MAX_TEXT_LEN = 60
MAX_WIDTH = 2000
TEXT_HEIGHT_RANGE = (40, 96)  # height of the ink in the final image, like real line scans
HOLDOUT_PERCENT = 15  # share of writers (or images) held out for val-composed

# Split names and the number mixed into each line's seed.
SPLIT_CODES = {("train", "font"): 0, ("train", "composed"): 1,
               ("val-font", "font"): 2, ("val-composed", "composed"): 3}

# Where the handwriting fonts come from (installed by scripts/build-text-corpus.sh).
DEBIAN_FONT_PACKAGES = [
    "fonts-dancingscript", "fonts-kaushanscript", "fonts-kristi", "fonts-ecolier-court",
    "fonts-havana", "fonts-dkg-handwriting", "fonts-breip", "fonts-rufscript", "fonts-sjfonts",
    "fonts-comic-neue", "fonts-klee", "fonts-tlwg-purisa-otf", "fonts-dustin", "fonts-femkeklaver",
]
PYPI_FONT_PACKAGES = [
    "fontpkg-caveat", "fontpkg-indie-flower", "fontpkg-kalam", "fontpkg-shadows-into-light",
    "fontpkg-zeyada", "fontpkg-satisfy", "fontpkg-yellowtail", "font-intuitive",
]

# Font files not used, by file name, with the reason (judged from rendered samples).
REJECTED_FONTS = {
    "breipfont.ttf": "same glyphs as Breip.ttf",
    "dkgBd.ttf": "heavy, capitals hard to read",
    "dkgIt.ttf": "messy oblique, letters hard to read",
    "dkgBI.ttf": "messy bold oblique, letters hard to read",
    "Balker.ttf": "typeset style, most punctuation and digits missing",
    "Dustismo.ttf": "typeset sans, not handwriting",
    "Dustismo_Roman.ttf": "typeset serif, not handwriting",
    "Dustismo_Roman_Bold.ttf": "typeset serif, not handwriting",
    "Dustismo_Roman_Italic.ttf": "typeset serif, not handwriting",
    "Dustismo_Roman_Italic_Bold.ttf": "typeset serif, not handwriting",
    "dustismo_bold.ttf": "typeset sans, not handwriting",
    "dustismo_bold_italic.ttf": "typeset sans, not handwriting",
    "dustismo_italic.ttf": "typeset sans, not handwriting",
    "It_wasn_t_me.ttf": "decorative condensed, misleading & and #",
    "MarkedFool.ttf": "decorative small caps, glyphs missing",
    "PenguinAttack.ttf": "decorative",
    "Swift.ttf": "decorative, digits missing",
    "Wargames.ttf": "dotted display font",
    "Winks.ttf": "decorative small caps, glyphs missing",
    "flatline.ttf": "decorative, unreadable",
    "progenisis.ttf": "decorative stencil, glyphs missing",
    "Ecolier-court.ttf": "calligraphic hairlines vanish at line-scan sizes",
}

# Fonts whose glyphs are only partly usable: the characters they may draw (file name -> chars).
RESTRICTED_FONTS = {
    # capitals, digits and punctuation are hollow outlines that do not survive degradation
    "femkeklaver.ttf": LOWER + " ",
    # the percent sign looks like "7."
    "dkg.ttf": DIGITS + UPPER + LOWER + " " + PUNCT.replace("%", ""),
}

# Families whose letters join up: their glyph spacing is jittered less so that joins survive.
SCRIPT_FAMILIES = {"Dancing Script", "Yellowtail", "Satisfy", "Kristi", "Havana",
                   "Kaushan Script"}

# Whole families held out for val-font: a print hand, a joined script and a casual marker hand.
HELD_OUT_FAMILIES = ("Kalam", "Satisfy", "Junkyard")

# Character classes for composed lines (heights are fractions of the capital height C).
XHEIGHT_LETTERS = set("acemnorsuvwxz")
ASCENDER_LETTERS = set("bdfhklt")
DESCENDER_LETTERS = set("gpqy")
WRITER_SOURCES = {"femnist", "tasnim", "chars74k"}  # sources whose writer ids are recorded

COMMON_WORDS = """the of and to a in is it you that he was for on are with as I his they be at one
have this from or had by hot word but what some we can out other were all there when up use your
how said an each she which do their time if will way about many then them write would like so these
her long make thing see him two has look more day could go come did number sound no most people my
over know water than call first who may down side been now find any new work part take get place
made live where after back little only round man year came show every good me give our under name
very through just form sentence great think say help low line differ turn cause much mean before
move right boy old too same tell does set three want air well also play small end put home read
hand port large spell add even land here must big high such follow act why ask men change went
light kind off need house picture try us again animal point mother world near build self earth
father head stand own page should country found answer school grow study still learn plant cover
food sun four between state keep eye never last let thought city tree cross farm hard start might
story saw far sea draw left late run don't while press close night real life few north open seem
together next white children begin got walk example ease paper group always music those both mark
often letter until mile river car feet care second book carry took science eat room friend began
idea fish mountain stop once base hear horse cut sure watch color face wood main enough plain girl
usual young ready above ever red list though feel talk bird soon body dog family direct pose leave
song measure door product black short numeral class wind question happen complete ship area half
rock order fire south problem piece told knew pass since top whole king space heard best hour
better true during hundred five remember step early hold west ground interest reach fast verb sing
listen six table travel less morning ten simple several vowel toward war lay against pattern slow
center love person money serve appear road map rain rule govern pull cold notice voice unit power
town fine certain fly fall lead cry dark machine note wait plan figure star box noun field rest
correct able pound done beauty drive stood contain front teach week final gave green oh quick
develop ocean warm free minute strong special mind behind clear tail produce fact street inch
multiply nothing course stay wheel full force blue object decide surface deep moon island foot
system busy test record boat common gold possible plane stead dry wonder laugh thousand ago ran
check game shape equate miss brought heat snow tire bring yes distant fill east paint language
among I'm it's can't won't isn't we'll they're o'clock didn't Mr. Mrs. Dr. St. etc. e.g. No.
""".split()

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
STREETS = ["Elm", "Oak", "Maple", "Main", "High", "Park", "Church", "Mill", "Station", "Hill",
           "Cedar", "Pine", "Lake", "River", "King", "Queen", "Bridge", "Green", "Victoria",
           "Market", "School", "North", "West", "Birch", "Willow", "Walnut", "Spring", "Forest"]
STREET_TYPES = ["St.", "Street", "Ave.", "Avenue", "Rd.", "Road", "Lane", "Dr.", "Way", "Close",
                "Ct.", "Pl."]
LABELS = ["Date", "Time", "Tel", "Phone", "Total", "Order", "Ref", "Room", "Page", "Item", "Qty",
          "Price", "Due", "Name", "Note", "To", "From", "Call", "Code", "Amount", "Balance"]

# Ink colours (RGB) and their gray level after conversion (ITU-R BT.601 luma).
INK_COLOURS = {"black": (22, 22, 28), "blue": (28, 48, 150), "light blue": (45, 80, 185),
               "dark grey": (75, 75, 80), "pencil": (115, 115, 120)}
RULE_COLOURS = {"blue": (150, 185, 230), "grey": (185, 185, 190)}


def luma(rgb):
    """Gray level of an RGB colour (ITU-R BT.601, as PIL's convert('L') does)."""
    r, g, b = rgb
    return 0.299 * r + 0.587 * g + 0.114 * b


# --------------------------------------------------------------------------------------------------
# Fonts
# --------------------------------------------------------------------------------------------------

@dataclass
class FontFace:
    """One font file and what the corpus may draw with it."""

    family: str
    name: str
    path: str
    package: str
    covered: str = ""  # charset characters that have a visible glyph
    allowed: frozenset = frozenset()  # covered characters the corpus may draw
    used: bool = False
    split: str = "-"  # train, val-font or - (not used)
    reason: str = ""
    _fonts: dict = field(default_factory=dict, repr=False)
    _glyphs: dict = field(default_factory=dict, repr=False)
    _extents: dict = field(default_factory=dict, repr=False)

    def font(self, size):
        """The PIL font at a pixel size (cached)."""
        f = self._fonts.get(size)
        if f is None:
            f = ImageFont.truetype(self.path, size)
            self._fonts[size] = f
        return f

    def glyph(self, ch, size):
        """Return (mask, ox, oy, advance) of one character: an 'L' image, the pen origin on the
        baseline inside it and the pen advance, all in pixels (cached)."""
        key = (ch, size)
        g = self._glyphs.get(key)
        if g is None:
            font = self.font(size)
            adv = font.getlength(ch)
            left, top, right, bottom = font.getbbox(ch, anchor="ls")
            if right <= left or bottom <= top:
                g = (None, 0, 0, adv)
            else:
                img = Image.new("L", (right - left + 2, bottom - top + 2), 0)
                ImageDraw.Draw(img).text((1 - left, 1 - top), ch, font=font, fill=255,
                                         anchor="ls")
                g = (img, 1 - left, 1 - top, adv)
            self._glyphs[key] = g
        return g

    def extent(self, text):
        """(top, bottom) of the text's ink relative to the baseline, in em units."""
        boxes = [self._extents.get(ch) for ch in set(text) - {" "}]
        if None in boxes:
            font = self.font(100)
            for ch in set(text) - {" "} - set(self._extents):
                _, top, _, bottom = font.getbbox(ch, anchor="ls")
                self._extents[ch] = (top / 100.0, bottom / 100.0)
            boxes = [self._extents[ch] for ch in set(text) - {" "}]
        if not boxes:
            return -0.7, 0.0
        return min(b[0] for b in boxes), max(b[1] for b in boxes)

    def cap_height(self):
        """Height of 'H' above the baseline, in em units."""
        _, top, _, _ = self.font(100).getbbox("H", anchor="ls")
        return max(-top / 100.0, 0.3)


def font_files():
    """List (path, package) of every .ttf/.otf file shipped by the font packages present."""
    found = []
    for pkg in DEBIAN_FONT_PACKAGES:
        try:
            out = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True, check=True)
        except (OSError, subprocess.CalledProcessError):
            print(f"font package {pkg} is not installed", file=sys.stderr)
            continue
        for line in out.stdout.splitlines():
            if line.lower().endswith((".ttf", ".otf")) and os.path.isfile(line):
                found.append((line, pkg))
    for pkg in PYPI_FONT_PACKAGES:
        try:
            dist = importlib.metadata.distribution(pkg)
        except importlib.metadata.PackageNotFoundError:
            print(f"font package {pkg} is not installed", file=sys.stderr)
            continue
        for f in dist.files or []:
            if str(f).lower().endswith((".ttf", ".otf")):
                found.append((str(dist.locate_file(f)), pkg))
    return sorted(set(found), key=lambda t: (t[1], os.path.basename(t[0])))


def load_fonts():
    """Find the font files, check their charset coverage and decide which are used and where."""
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    faces = []
    for path, pkg in font_files():
        base = os.path.basename(path)
        try:
            tt = TTFont(path, lazy=True)
            cmap = tt.getBestCmap() or {}
            family = tt["name"].getBestFamilyName() or base
            name = tt["name"].getBestFullName() or base
        except Exception as exc:  # a broken font file is reported and skipped
            print(f"cannot read {path}: {exc}", file=sys.stderr)
            continue
        face = FontFace(family=family, name=name, path=path, package=pkg)
        pil = face.font(48)
        covered = []
        for ch in sorted(CHARSET):
            if ch == " " or (ord(ch) in cmap and pil.getbbox(ch)[2] > pil.getbbox(ch)[0]):
                covered.append(ch)
        face.covered = "".join(covered)
        allowed = set(covered) & set(RESTRICTED_FONTS.get(base, CHARSET))
        face.allowed = frozenset(allowed)
        if base in REJECTED_FONTS:
            face.reason = REJECTED_FONTS[base]
        elif not set(LOWER) <= allowed:
            face.reason = "lower-case letters missing"
        else:
            face.used = True
            face.split = "val-font" if family in HELD_OUT_FAMILIES else "train"
            missing = sorted(CHARSET - allowed)
            if missing:
                face.reason = "not drawn: " + "".join(missing).replace(" ", "")
        faces.append(face)
    return faces


def print_font_table(faces):
    """Print the coverage table: font, file, covered characters, used."""
    print(f"{'font':34} {'file':34} {'covered':>7} {'used':5} {'split':9} note")
    for f in faces:
        print(f"{f.name[:34]:34} {os.path.basename(f.path)[:34]:34} "
              f"{len(f.covered):3d}/{len(CHARSET):3d} {'yes' if f.used else 'no':5} "
              f"{f.split:9} {f.reason}")


def write_font_table(faces, path):
    """Write the coverage table as CSV."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["family", "font", "file", "package", "covered", "missing", "used", "split",
                    "note"])
        for f in faces:
            w.writerow([f.family, f.name, os.path.basename(f.path), f.package, len(f.covered),
                        "".join(sorted(CHARSET - set(f.covered))), "yes" if f.used else "no",
                        f.split, f.reason])


# --------------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------------

class TextSource:
    """Generates line transcriptions: words, sentences, dates, codes, addresses, GW lines."""

    def __init__(self, data_dir):
        self.common = [w for w in COMMON_WORDS if set(w) <= CHARSET]
        self.words, self.possessives = [], []
        dict_path = Path("/usr/share/dict/american-english")
        if dict_path.exists():
            for w in dict_path.read_text(encoding="utf-8", errors="replace").split():
                if not w.isascii() or len(w) > 14:
                    continue
                if w.endswith("'s") and w[:-2].isalpha():
                    self.possessives.append(w)
                elif w.isalpha():
                    self.words.append(w)
        else:
            print("no /usr/share/dict/american-english (package wamerican): common words only",
                  file=sys.stderr)
        self.words = self.words or self.common
        self.possessives = self.possessives or ["John's"]
        self.gw_lines = []
        manifest = Path(data_dir) / "real-lines" / "manifest.csv"
        if manifest.exists():
            with open(manifest, newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    text = " ".join(row["text"].split())
                    if (row["writer_or_page"].startswith("gw:") and row["kind"] == "line"
                            and text and set(text) <= CHARSET):
                        self.gw_lines.append(text)
        else:
            print(f"no {manifest}: no George Washington transcriptions", file=sys.stderr)

    # ---- single tokens ---------------------------------------------------------------------------

    def word(self, rng):
        """A random word: common English words and dictionary words, a few possessives."""
        r = rng.random()
        if r < 0.45:
            return self.common[rng.integers(len(self.common))]
        if r < 0.47:
            return self.possessives[rng.integers(len(self.possessives))]
        return self.words[rng.integers(len(self.words))]

    @staticmethod
    def date(rng):
        """A date in one of the ways people write them."""
        d, m, y = int(rng.integers(1, 29)), int(rng.integers(1, 13)), int(rng.integers(1950, 2040))
        forms = [f"{d:02d}/{m:02d}/{y}", f"{d}/{m}/{y % 100:02d}", f"{d} {MONTHS[m - 1]} {y}",
                 f"{y}-{m:02d}-{d:02d}", f"{MONTHS[m - 1][:3]} {d}, {y}", f"{d}.{m}.{y}",
                 f"{MONTHS[m - 1]} {d}", f"{WEEKDAYS[rng.integers(7)]} {d}/{m}",
                 f"{m}/{d}/{y}", f"{d}-{m}-{y % 100:02d}"]
        return forms[rng.integers(len(forms))]

    @staticmethod
    def clock(rng):
        """A time of day."""
        h, mi = int(rng.integers(0, 24)), int(rng.integers(0, 60))
        h12 = h % 12 or 12
        forms = [f"{h}:{mi:02d}", f"{h:02d}:{mi:02d}", f"{h12}.{mi:02d} am", f"{h12}.{mi:02d} pm",
                 f"{h12} pm", f"{h12}:{mi:02d} a.m.", f"{h12}:{mi:02d} p.m.", f"{h12}am",
                 f"{h}h{mi:02d}"]
        return forms[rng.integers(len(forms))]

    @staticmethod
    def amount(rng):
        """A number as written on a bill or a note (no currency sign: '$' is not in the charset)."""
        n = float(rng.choice([rng.uniform(0, 20), rng.uniform(0, 200), rng.uniform(0, 20000)]))
        forms = [f"{n:.2f}", f"{int(n):,}", f"{int(n) % 101}%", f"{n:,.2f}", f"{int(n)}",
                 f"{n:.1f}", f"+{int(n) % 60}%", f"-{n:.2f}", f"{int(n) % 12 + 1} x {n:.2f}",
                 f"{int(n) % 9 + 1}/{int(n) % 7 + 2}", f"{int(n) % 50}.{int(rng.integers(100)):02d}"]
        return forms[rng.integers(len(forms))]

    @staticmethod
    def code(rng):
        """An identifier: order numbers, references, hex-like codes."""
        def letters(k):
            return "".join(UPPER[i] for i in rng.integers(0, 26, k))

        def digits(k):
            return "".join(DIGITS[i] for i in rng.integers(0, 10, k))

        hexd = "0123456789ABCDEF"
        forms = [f"{letters(2)}-{digits(4)}", f"#{int(rng.integers(1, 1000))}",
                 "".join(hexd[i] for i in rng.integers(0, 16, 4)), f"No. {int(rng.integers(1, 500))}",
                 f"{letters(1)}{digits(1)}-{digits(2)}", f"{letters(3)}{digits(3)}",
                 f"{digits(3)}-{letters(2)}", f"{letters(1)}{int(rng.integers(1, 99))}",
                 f"({int(rng.integers(1, 20))})", f"{letters(2)}{digits(1)} {digits(1)}{letters(2)}",
                 ordinal(int(rng.integers(1, 32))),
                 f"{letters(1)}+", f"{digits(2)}/{digits(3)}"]
        return forms[rng.integers(len(forms))]

    @staticmethod
    def phone(rng):
        """A made-up phone number (555 01xx numbers are reserved for fiction)."""
        def digits(k):
            return "".join(DIGITS[i] for i in rng.integers(0, 10, k))

        forms = [f"555 01{digits(2)}", f"(555) 01{digits(2)}", f"555-01{digits(2)}",
                 f"0{digits(3)} {digits(3)} {digits(4)}", f"+44 {digits(4)} {digits(6)}",
                 f"{digits(3)} {digits(4)}", f"{digits(2)} {digits(2)} {digits(2)} {digits(2)}"]
        return forms[rng.integers(len(forms))]

    @staticmethod
    def address(rng):
        """A street address or part of one."""
        n = int(rng.integers(1, 250))
        street = f"{STREETS[rng.integers(len(STREETS))]} {STREET_TYPES[rng.integers(len(STREET_TYPES))]}"
        forms = [f"{n} {street}", f"{n}{'ABC'[rng.integers(3)]} {street}", f"Apt {n % 40 + 1}",
                 f"Flat {n % 12 + 1}, {n} {street}", f"{n} {street}, Room {n % 30 + 1}",
                 f"P.O. Box {n * 7}"]
        return forms[rng.integers(len(forms))]

    def generated(self, rng):
        """One of the strings people write besides words."""
        makers = [self.date, self.clock, self.amount, self.code, self.phone, self.address]
        return makers[rng.integers(len(makers))](rng)

    # ---- lines -----------------------------------------------------------------------------------

    def sentence(self, rng, n):
        """n words with optional commas, quotes, parentheses, hyphens and end punctuation, in one
        of the capitalisation styles (sentence case mostly, some Title Case and ALL CAPS)."""
        words = [self.word(rng) for _ in range(n)]
        if rng.random() < 0.12:
            words.insert(int(rng.integers(len(words) + 1)), str(int(rng.integers(1, 100))))
        style = rng.random()
        if style < 0.10:
            words = [w.upper() for w in words]
        elif style < 0.22:
            words = [w[:1].upper() + w[1:] for w in words]
        elif style < 0.92:
            words[0] = words[0][:1].upper() + words[0][1:]
        if len(words) >= 3 and rng.random() < 0.05:  # a hyphenated compound
            i = int(rng.integers(len(words) - 1))
            words[i:i + 2] = [words[i] + "-" + words[i + 1]]
        for i in range(len(words) - 1):
            if rng.random() < 0.10:
                words[i] += "," if rng.random() < 0.8 else str(rng.choice([";", ":"]))
        if len(words) >= 2 and rng.random() < 0.06:
            i = int(rng.integers(len(words) - 1))
            words[i], words[i + 1] = "(" + words[i], words[i + 1] + ")"
        text = " ".join(words)
        r = rng.random()
        if text[-1] in PUNCT:
            pass
        elif r < 0.35:
            text += "."
        elif r < 0.42:
            text += "?"
        elif r < 0.48:
            text += "!"
        elif r < 0.50:
            text += rng.choice([":", ";", "...", " -"])
        if rng.random() < 0.06:
            text = '"' + text + '"'
        elif rng.random() < 0.02:
            text = "'" + text + "'"
        return text

    def single(self, rng):
        """A one-word line: a word in some case, maybe with punctuation, or a generated token."""
        if rng.random() < 0.25:
            text = self.generated(rng).split(" ")[0]
            return text if len(text) > 1 else self.word(rng)
        w = self.word(rng)
        r = rng.random()
        if r < 0.25:
            w = w[:1].upper() + w[1:]
        elif r < 0.35:
            w = w.upper()
        if rng.random() < 0.15:
            w += rng.choice([".", ",", "!", "?", ":", ";"])
        return w

    def mixed(self, rng):
        """A short phrase mixing words with generated strings, e.g. 'Meet at 10:45 on 3 March'."""
        parts = []
        if rng.random() < 0.4:
            parts.append(LABELS[rng.integers(len(LABELS))] + rng.choice([":", "", " -"]))
        for _ in range(int(rng.integers(1, 4))):
            if rng.random() < 0.5:
                parts.append(self.generated(rng))
            else:
                parts.append(" ".join(self.word(rng) for _ in range(int(rng.integers(1, 3)))))
        text = " ".join(parts)
        return text[:1].upper() + text[1:] if rng.random() < 0.6 else text

    def gw(self, rng):
        """A George Washington transcription, or a run of its words."""
        line = self.gw_lines[rng.integers(len(self.gw_lines))]
        words = line.split(" ")
        if rng.random() < 0.5 and len(words) > 2:
            k = int(rng.integers(2, len(words)))
            s = int(rng.integers(0, len(words) - k + 1))
            words = words[s:s + k]
        return " ".join(words)

    def line(self, rng):
        """One transcription of at most MAX_TEXT_LEN characters: about 30 % single words."""
        r = rng.random()
        if r < 0.30:
            text = self.single(rng)
        elif r < 0.62:
            text = self.sentence(rng, int(rng.integers(2, 9)))
        elif r < 0.72:
            text = self.sentence(rng, int(rng.integers(1, 4)))
        elif r < 0.90 or not self.gw_lines:
            text = self.mixed(rng)
        else:
            text = self.gw(rng)
        return fit_length(text)

    def line_for(self, rng, allowed, upper=False):
        """A line that only uses characters in `allowed`, optionally in capitals."""
        text = ""
        for _ in range(12):
            text = self.line(rng)
            if upper:
                text = text.upper()
            if set(text) <= allowed:
                return text
            if set(text.lower()) <= allowed:
                return text.lower()
        kept = "".join(c for c in text.lower() if c in allowed)
        kept = " ".join(kept.split())
        return kept or "".join(c for c in "word" if c in allowed) or "o"


def ordinal(n):
    """1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def fit_length(text):
    """Shorten a line to MAX_TEXT_LEN characters at a word boundary and tidy its spaces."""
    text = " ".join(text.split())
    while len(text) > MAX_TEXT_LEN and " " in text:
        text = text.rsplit(" ", 1)[0]
    return text[:MAX_TEXT_LEN].strip()


# --------------------------------------------------------------------------------------------------
# Handwritten character samples
# --------------------------------------------------------------------------------------------------

def stable_percent(key):
    """A stable number 0..99 from a string (sha1), used for the writer/image hold-out."""
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % 100


def drop_fragments(ink):
    """Remove specks (under 3 % of the ink) and, in images with a margin around the character,
    pieces of neighbouring characters cut off at the border (NIST crops have some)."""
    labels, count = ndimage.label(ink > 0.35, structure=np.ones((3, 3)))
    if count <= 1:
        return ink
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    main = int(sizes.argmax())
    edge = np.zeros(count + 1, dtype=bool)
    edge[np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))] = True
    keep = sizes >= 0.03 * sizes.sum()
    if not edge[main]:
        keep &= ~edge
    keep[main] = True
    keep[0] = False
    # ink between components (faint anti-aliasing) goes with the nearest kept component
    grown = ndimage.grey_dilation(np.where(keep[labels], 1.0, 0.0), size=(3, 3))
    return ink * grown


def ink_mask(img):
    """Normalise a character image of either polarity (or with transparency): read it as dark ink
    on light paper (polarity decided from the border), and return its ink mask, an 'L' image with
    ink 255 and paper 0, cropped to the ink.  None if the image is blank."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32)
        if alpha.min() < 128 <= alpha.max():
            # ink drawn on a transparent sheet: the alpha channel is the ink
            a = 255.0 - alpha
        else:
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            a = np.asarray(Image.alpha_composite(white, rgba).convert("L"), dtype=np.float32)
    else:
        a = np.asarray(img.convert("L"), dtype=np.float32)
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    if np.median(border) < 128:  # light ink on dark: invert
        a = 255.0 - a
        border = 255.0 - border
    paper = float(np.median(border))
    darkest = float(np.percentile(a, 0.5))
    if paper - darkest < 40:
        return None
    ink = np.clip((paper - a) / (paper - darkest), 0.0, 1.0)
    ink = np.clip((ink - 0.25) / 0.55, 0.0, 1.0)  # drop paper texture and shading
    ink = drop_fragments(ink)
    rows = np.flatnonzero(ink.max(axis=1) > 0.4)
    cols = np.flatnonzero(ink.max(axis=0) > 0.4)
    if rows.size == 0 or cols.size == 0:
        return None
    ink = np.pad(ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], 1)
    out = Image.fromarray((ink * 255).astype(np.uint8), "L")
    # thicken hairline samples (canvas drawings) to a stroke of about a tenth of the glyph size
    want = 0.1 * max(out.size)
    width = stroke_width(out)
    if width < 0.75 * want:
        out = out.filter(ImageFilter.MaxFilter(2 * int(round((want - width) / 2)) + 1))
    if out.height > 128:  # keep the cache small; lines draw characters at 24-100 px
        out = out.resize((max(1, round(out.width * 128 / out.height)), 128), Image.BILINEAR)
    return out


class GlyphBank:
    """The handwritten character images of one split, indexed by writer and by label."""

    def __init__(self, chars_dir, held_out):
        self.dir = Path(chars_dir)
        self.by_writer = {}  # (source, writer) -> label -> [paths]
        self.by_source = {}  # source -> label -> [paths]
        self.by_label = {}  # label -> [paths]
        self.writer_of = {}  # path -> "source:writer" ("source:anon" without writer ids)
        self._cache = {}
        with open(self.dir / "manifest.csv", newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                src, writer, label, path = row["source"], row["writer"], row["label"], row["path"]
                if src in WRITER_SOURCES:
                    held = stable_percent(f"{src}:{writer}") < HOLDOUT_PERCENT
                else:
                    held = stable_percent(path) < HOLDOUT_PERCENT
                if held != held_out or label not in CHARSET:
                    continue
                writer = writer or "anon"
                self.writer_of[path] = f"{src}:{writer}"
                self.by_writer.setdefault((src, writer), {}).setdefault(label, []).append(path)
                self.by_source.setdefault(src, {}).setdefault(label, []).append(path)
                self.by_label.setdefault(label, []).append(path)
        self.writers = {src: sorted(k for k in self.by_writer if k[0] == src)
                        for src in self.by_source}

    def image(self, path):
        """The ink mask of one sample (cached); None for a blank image."""
        if path not in self._cache:
            with Image.open(self.dir / path) as img:
                self._cache[path] = ink_mask(img)
        return self._cache[path]

    def pick(self, rng, label, choices):
        """A non-blank sample of `label` from the first list of candidate paths that has one, as
        (ink mask, path); (None, None) if there is none."""
        for paths in choices:
            if not paths:
                continue
            for _ in range(4):
                path = paths[rng.integers(len(paths))]
                img = self.image(path)
                if img is not None:
                    return img, path
        return None, None


# --------------------------------------------------------------------------------------------------
# Geometry helpers
# --------------------------------------------------------------------------------------------------

def transform_glyph(img, ox, oy, angle_deg, scale_x, scale_y):
    """Rotate and scale a glyph mask about its pen origin (ox, oy).  Returns the new mask and the
    origin's position inside it."""
    t = math.radians(angle_deg)
    c, s = math.cos(t), math.sin(t)
    # forward map of offsets from the origin: (u, v) -> (c*sx*u - s*sy*v, s*sx*u + c*sy*v)
    w, h = img.size
    xs, ys = [], []
    for u, v in ((-ox, -oy), (w - ox, -oy), (-ox, h - oy), (w - ox, h - oy)):
        xs.append(c * scale_x * u - s * scale_y * v)
        ys.append(s * scale_x * u + c * scale_y * v)
    x0, y0 = math.floor(min(xs)), math.floor(min(ys))
    x1, y1 = math.ceil(max(xs)), math.ceil(max(ys))
    nx, ny = -x0, -y0
    # inverse map for PIL: output pixel -> source pixel
    a, b = c / scale_x, s / scale_x
    d, e = -s / scale_y, c / scale_y
    data = (a, b, ox - (a * nx + b * ny), d, e, oy - (d * nx + e * ny))
    out = img.transform((x1 - x0, y1 - y0), Image.AFFINE, data, Image.BILINEAR)
    return out, nx, ny


def paste_max(canvas, img, x, y):
    """Draw an 'L' mask onto a uint8 canvas at integer (x, y), keeping the darker ink (max)."""
    arr = np.asarray(img)
    h, w = arr.shape
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, canvas.shape[1]), min(y + h, canvas.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    region = canvas[y0:y1, x0:x1]
    np.maximum(region, arr[y0 - y:y1 - y, x0 - x:x1 - x], out=region)


def smooth_field(rng, shape, cell):
    """A smooth random field of about -1..1 of the given (h, w): random values on a coarse grid
    of `cell` pixels, interpolated bicubically."""
    h, w = shape
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    coarse = rng.uniform(-1, 1, (gh, gw)).astype(np.float32)
    return np.asarray(Image.fromarray(coarse, "F").resize((w, h), Image.BICUBIC))


def warp_line(mask, baseline, height, rng, shear, wobble, elastic):
    """Slant, wobble and elastically distort a line's ink mask in one bilinear remap.  `height`
    is the text height in pixels; `wobble` and `elastic` are amplitudes as fractions of it.
    Returns the warped mask and the baseline's new y."""
    src = np.pad(np.asarray(mask, dtype=np.float32), 1)  # zero border for out-of-range samples
    h, w = mask.height, mask.width
    pad_y = int(math.ceil((wobble + elastic) * height)) + 2
    shift_top, shift_bottom = shear * baseline, shear * (baseline - h)
    pad_x = int(math.ceil(max(0.0, -min(shift_top, shift_bottom)) + elastic * height)) + 2
    out_w = w + int(math.ceil(abs(shift_top - shift_bottom) + 2 * elastic * height)) + 4
    out_h = h + 2 * pad_y
    xs = np.arange(out_w, dtype=np.float32)
    ys = np.arange(out_h, dtype=np.float32)[:, np.newaxis]
    # slow baseline wobble: a sine plus a smoothed random walk, as a function of x
    period = height * rng.uniform(3, 10)
    phase = rng.uniform(0, 2 * math.pi)
    knots = np.arange(0, out_w + height, height / 2, dtype=np.float32)
    walk = np.cumsum(rng.normal(0, 1, knots.size))
    walk -= walk.mean()
    walk /= max(1e-6, float(np.abs(walk).max()))
    bend = (wobble * height * (0.7 * np.sin(2 * math.pi * xs / period + phase)
                               + 0.3 * np.interp(xs, knots, walk))).astype(np.float32)
    # source coordinates of every output pixel (inverse mapping)
    sy = ys - pad_y - bend[np.newaxis, :]
    sx = xs[np.newaxis, :] - pad_x - shear * (baseline - sy)
    if elastic > 0:
        amp = elastic * height
        sx = sx + amp * smooth_field(rng, (out_h, out_w), 0.4 * height)
        sy = sy + amp * smooth_field(rng, (out_h, out_w), 0.4 * height)
    sx += 1.0  # the zero border
    sy += 1.0
    x0 = np.clip(np.floor(sx), 0, w).astype(np.int32)
    y0 = np.clip(np.floor(sy), 0, h).astype(np.int32)
    fx = np.clip(sx - x0, 0.0, 1.0)
    fy = np.clip(sy - y0, 0.0, 1.0)
    flat = src.ravel()
    idx = y0 * (w + 2) + x0
    top = flat.take(idx) * (1 - fx) + flat.take(idx + 1) * fx
    bottom = flat.take(idx + w + 2) * (1 - fx) + flat.take(idx + w + 3) * fx
    out = top * (1 - fy) + bottom * fy
    return Image.fromarray(out.astype(np.uint8), "L"), baseline + pad_y


def stroke_width(mask):
    """Rough stroke width in pixels of an ink mask: twice the ink area over its boundary."""
    ink = np.asarray(mask) > 127
    area = np.count_nonzero(ink)
    inner = np.count_nonzero(ink[1:-1, 1:-1] & ink[:-2, 1:-1] & ink[2:, 1:-1]
                             & ink[1:-1, :-2] & ink[1:-1, 2:])
    return 2.0 * area / max(1, area - inner)


def vary_stroke(mask, rng, height):
    """Thicken or thin the strokes: blur, then move the ink threshold up or down.  Thin strokes
    (under about 3 px) are only thickened, so that hairline fonts do not break up."""
    radius = max(0.6, height / 70.0)
    thinnest = -0.7 * float(np.clip((stroke_width(mask) - 3.0) / 3.0, 0.0, 1.0))
    t = rng.uniform(thinnest, 0.9)  # > 0 thicker
    centre = 128 - 95 * t
    lut = np.clip((np.arange(256) - centre) / 70.0 * 255 + 128, 0, 255).astype(np.uint8)
    return mask.filter(ImageFilter.GaussianBlur(radius)).point(lut.tolist())


def crop_and_scale(mask, baseline, rng, target):
    """Crop a mask to its ink, scale it so the ink is `target` px high (at most MAX_WIDTH wide
    with the margin) and add a margin of a few pixels.  Returns (mask, baseline) or None."""
    bbox = mask.point(lambda v: 255 if v > 40 else 0).getbbox()
    if bbox is None:
        return None
    x0, y0, x1, y1 = bbox
    crop = mask.crop(bbox)
    mx, my = int(rng.integers(2, 9)), int(rng.integers(2, 9))
    scale = target / crop.height
    if crop.width * scale + 2 * mx > MAX_WIDTH:
        scale = (MAX_WIDTH - 2 * mx) / crop.width
    size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
    crop = crop.resize(size, Image.BILINEAR)
    out = Image.new("L", (size[0] + 2 * mx, size[1] + 2 * my), 0)
    out.paste(crop, (mx, my))
    return out, (baseline - y0) * scale + my


# --------------------------------------------------------------------------------------------------
# Paper
# --------------------------------------------------------------------------------------------------

def on_paper(mask, baseline, rng):
    """Put an ink mask on simulated paper: paper colour and texture, rules or grid, ink colour,
    illumination, specks, blur, noise and JPEG.  Returns an 8-bit grayscale image."""
    alpha = np.asarray(mask, dtype=np.float32) / 255.0
    h, w = alpha.shape
    bbox = mask.getbbox() or (0, 0, w, h)
    text_h = max(8, bbox[3] - bbox[1])
    dark_paper = rng.random() < 0.10
    if dark_paper:
        paper, ink = rng.uniform(15, 80), rng.uniform(180, 245)
    else:
        kind = rng.random()
        if kind < 0.45:
            paper = rng.uniform(236, 255)  # white
        elif kind < 0.70:
            paper = luma((rng.uniform(245, 255), rng.uniform(236, 248), rng.uniform(205, 232)))
        else:
            paper = rng.uniform(180, 232)  # grey, recycled or shaded paper
        colour = rng.choice(list(INK_COLOURS), p=[0.35, 0.2, 0.1, 0.15, 0.2])
        ink = luma(INK_COLOURS[colour]) + rng.uniform(-15, 15)
        if colour == "pencil":
            grain = smooth_field(rng, (h, w), 1.5) * 0.5 + 0.5
            alpha = alpha * (rng.uniform(0.55, 0.85) - 0.3 * grain * rng.random())
        ink = min(ink, paper - 60)
    img = np.full((h, w), paper, dtype=np.float32)
    img += rng.uniform(0, 6) * smooth_field(rng, (h, w), rng.uniform(4, 30))
    rules = rng.random()
    rule_level = luma(RULE_COLOURS[rng.choice(list(RULE_COLOURS))])
    if dark_paper:
        rule_level = paper + rng.uniform(20, 60)
    if rules < 0.35:  # ruled paper
        gap = text_h * rng.uniform(1.1, 1.7)
        first = baseline + text_h * rng.uniform(-0.05, 0.15) if rng.random() < 0.5 \
            else rng.uniform(0, gap)
        strength, thick = rng.uniform(0.35, 0.9), int(rng.integers(1, 3))
        y = first % gap
        while y < h:
            yi = int(y)
            img[yi:yi + thick] += strength * (rule_level - img[yi:yi + thick])
            y += gap
        if rng.random() < 0.08:  # red margin line
            x = int(rng.integers(0, w))
            img[:, x:x + 2] += 0.6 * (luma((220, 90, 90)) - img[:, x:x + 2])
    elif rules < 0.47:  # grid paper
        gap = text_h * rng.uniform(0.35, 0.7)
        strength = rng.uniform(0.25, 0.6)
        off_x, off_y = rng.uniform(0, gap), rng.uniform(0, gap)
        for y in np.arange(off_y, h, gap):
            img[int(y)] += strength * (rule_level - img[int(y)])
        for x in np.arange(off_x, w, gap):
            img[:, int(x)] += strength * (rule_level - img[:, int(x)])
    opacity = rng.uniform(0.85, 1.0)
    img += (ink - img) * (alpha * opacity)
    if rng.random() < 0.5:  # illumination gradient
        angle = rng.uniform(0, 2 * math.pi)
        ramp = (np.arange(w, dtype=np.float32)[np.newaxis, :] * math.cos(angle)
                + np.arange(h, dtype=np.float32)[:, np.newaxis] * math.sin(angle))
        ramp = (ramp - ramp.min()) / max(1e-6, float(ramp.max() - ramp.min()))
        img *= 1.0 - rng.uniform(0.05, 0.35) * ramp
    if rng.random() < 0.12:  # a soft shadow over part of the line
        edge = rng.uniform(0.2, 0.8) * w
        soft = rng.uniform(5, 40)
        xx = np.arange(w, dtype=np.float32)
        side = 1.0 / (1.0 + np.exp(np.clip((edge - xx) / soft, -30, 30)))
        if rng.random() < 0.5:
            side = 1.0 - side
        img *= 1.0 - rng.uniform(0.15, 0.4) * side[np.newaxis, :]
    for _ in range(rng.poisson(1.2)):  # specks of dirt or ink
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.5, 1.8)
        x0, x1, y0, y1 = int(cx - r - 1), int(cx + r + 2), int(cy - r - 1), int(cy + r + 2)
        yy, xx = np.mgrid[max(y0, 0):min(y1, h), max(x0, 0):min(x1, w)]
        if yy.size:
            cover = np.clip(r + 0.5 - np.hypot(xx - cx, yy - cy), 0, 1)
            level = ink + rng.uniform(0, 0.5) * (paper - ink)
            img[yy, xx] += cover * (level - img[yy, xx])
    out = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "L")
    if rng.random() < 0.6:
        out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.1)))
    sigma = rng.uniform(0, 6)
    if sigma > 0.5:
        noisy = np.asarray(out, dtype=np.float32) + sigma * rng.standard_normal((h, w), np.float32)
        out = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "L")
    if rng.random() < 0.5:
        buf = io.BytesIO()
        out.save(buf, "JPEG", quality=int(rng.integers(30, 91)))
        buf.seek(0)
        out = Image.open(buf)
        out.load()
    return out


# --------------------------------------------------------------------------------------------------
# Line renderers
# --------------------------------------------------------------------------------------------------

class Corpus:
    """Everything a worker needs to draw lines: fonts, text source and glyph banks."""

    def __init__(self, faces, text, data_dir):
        self.text = text
        self.fonts = {}  # split -> family -> [FontFace]
        for f in faces:
            if f.used:
                self.fonts.setdefault(f.split, {}).setdefault(f.family, []).append(f)
        chars = Path(data_dir) / "chars"
        self.banks = {"train": GlyphBank(chars, False), "val-composed": GlyphBank(chars, True)}

    def pick_face(self, rng, split, needs=frozenset()):
        """A random font: a family uniformly, then one of its files; only fonts that may draw
        every character in `needs` (when there are any)."""
        families = {}
        for family, faces in self.fonts[split].items():
            fit = [f for f in faces if needs <= f.allowed]
            if fit:
                families[family] = fit
        families = families or self.fonts[split]
        names = sorted(families)
        faces = families[names[rng.integers(len(names))]]
        return faces[rng.integers(len(faces))]

    def font_line(self, rng, split):
        """Draw one font line; returns (image, text, font name, writer)."""
        face = self.pick_face(rng, split)
        text = self.text.line_for(rng, face.allowed)
        target = rng.uniform(*TEXT_HEIGHT_RANGE)
        top, bottom = face.extent(text)
        size = min(max(round(target / max(0.2, bottom - top) / 2) * 2, 16), 200)
        script = face.family in SCRIPT_FAMILIES
        canvas_w = int(sum(face.glyph(c, size)[3] for c in text) * 1.3 + size * 2)
        canvas = np.zeros((int(size * 2.4), canvas_w), dtype=np.uint8)
        baseline = int(size * 1.5)
        x = size * 0.5
        space_scale = rng.uniform(1.0, 1.6)
        track = rng.uniform(-0.02, 0.06) * size * (0.3 if script else 1.0)
        for ch in text:
            img, ox, oy, adv = face.glyph(ch, size)
            if ch == " ":
                x += max(adv, 0.28 * size) * space_scale
                continue
            scale = rng.uniform(0.92, 1.08)
            angle = rng.uniform(-4, 4) * (0.5 if script else 1.0)
            if img is not None:
                g, gx, gy = transform_glyph(img, ox, oy, angle, scale, scale)
                dy = rng.normal(0, 0.025 * size)
                paste_max(canvas, g, int(round(x - gx)), int(round(baseline + dy - gy)))
            jitter = rng.normal(0, 0.03 if script else 0.05) * size
            x += adv * scale + track + min(max(jitter, -0.08 * size), 0.12 * size)
        mask = Image.fromarray(canvas, "L")
        return self.finish(mask, baseline, target, rng, shear_range=0.3), text, face.name, ""

    def composed_line(self, rng, split):
        """Draw one line from handwritten character samples; returns (image, text, punctuation
        font, writers)."""
        mask, baseline, target, _, text, font_name, writers_used = self.composed_mask(rng, split)
        return self.finish(mask, baseline, target, rng, shear_range=0.2), text, font_name, \
            writers_used

    def composed_mask(self, rng, split):
        """The ink of one line from handwritten character samples, before `finish`: (mask with
        ink 255 on 0, baseline row, target text height, capital height, text, punctuation font,
        writers)."""
        bank = self.banks[split]
        r = rng.random()
        if r < 0.35:
            source = "femnist"
        elif r < 0.55:
            source = "chars74k"
        elif r < 0.75:
            source = "tasnim"
        else:
            source = str(rng.choice(["kaggle_az", "canvas", "nist"], p=[0.5, 0.3, 0.2]))
        source = source if source in bank.by_source else sorted(bank.by_source)[0]
        writers = bank.writers[source]
        if source == "femnist":  # femnist writers have few letters each: prefer the fuller ones
            full = [wr for wr in writers if len(bank.by_writer[wr]) >= 30]
            writers = full or writers
        writer = writers[rng.integers(len(writers))]
        own = bank.by_writer[writer]
        from_source = bank.by_source[source]
        # characters the writer lacks come from one second writer of a 62-class source
        helpers = bank.writers.get("chars74k") or bank.writers["femnist"]
        helper = bank.by_writer[helpers[rng.integers(len(helpers))]]
        upper = source in ("kaggle_az", "canvas") and rng.random() < 0.85
        text = self.text.line_for(rng, CHARSET, upper=upper)
        punct_face = self.pick_face(rng, "val-font" if split == "val-composed" else "train",
                                    needs=set(text) & set(PUNCT))
        punct_size = None
        target = rng.uniform(*TEXT_HEIGHT_RANGE)
        has_desc = any(c in DESCENDER_LETTERS or c == "j" for c in text)
        has_tall = any(c.isupper() or c.isdigit() or c in ASCENDER_LETTERS for c in text)
        cap = target / ((1.0 if has_tall else 0.6) + (0.3 if has_desc else 0.0))
        cap = min(max(cap, 24.0), 110.0)
        xh = cap * rng.uniform(0.5, 0.62)
        canvas_w = int(len(text) * cap * 1.2 + cap * 2)
        canvas = np.zeros((int(cap * 2.6), canvas_w), dtype=np.uint8)
        baseline = int(cap * 1.6)
        x = cap * 0.4
        # word gaps: 0.6-1 x-height (of the capitals in an all-caps line) plus the largest
        # letter gap, so that words stay apart even where letters are spread out
        word_gap = rng.uniform(0.6, 1.0) * (0.6 * cap if text.isupper() else xh) + 0.08 * cap
        used = {}
        pieces, marks = [], []  # (mask, x, y) of the handwritten samples and of the punctuation
        for ch in text:
            if ch == " ":
                x += word_gap * rng.uniform(0.85, 1.15)
                continue
            gap = cap * rng.uniform(-0.05, 0.1)
            if ch in PUNCT:
                if punct_size is None:
                    punct_size = max(8, int(round(cap / punct_face.cap_height())))
                img, ox, oy, adv = punct_face.glyph(ch, punct_size)
                if img is not None:
                    g, gx, gy = transform_glyph(img, ox, oy, rng.uniform(-4, 4), 1.0, 1.0)
                    marks.append((g, int(round(x - gx)), int(round(baseline - gy))))
                x += adv + max(gap, 0)
                continue
            img, path = bank.pick(rng, ch, [own.get(ch), helper.get(ch), from_source.get(ch),
                                            bank.by_label.get(ch)])
            if img is None:
                continue
            who = bank.writer_of[path]
            used[who] = used.get(who, 0) + 1
            if ch in XHEIGHT_LETTERS:
                height, drop = xh, 0.0
            elif ch in DESCENDER_LETTERS:
                height, drop = xh + 0.3 * cap, 0.3 * cap
            elif ch == "j":
                height, drop = 0.75 * cap + 0.3 * cap, 0.3 * cap
            elif ch == "i":
                height, drop = 0.75 * cap, 0.0
            elif ch == "t":
                height, drop = 0.85 * cap, 0.0
            else:  # capitals, digits, other ascenders
                height, drop = cap, 0.0
            height *= rng.uniform(0.92, 1.08)
            aspect = min(max(img.width / img.height, 0.12), 1.6)
            sy = height / img.height
            sx = aspect * height / img.width
            g, gx, gy = transform_glyph(img, 0, img.height, rng.uniform(-4, 4), sx, sy)
            dy = drop + rng.normal(0, 0.03 * cap)
            pieces.append((g, int(round(x - gx)), int(round(baseline + dy - gy))))
            x += img.width * sx + gap
        if marks and pieces:
            # thicken font punctuation to about the stroke width of the handwritten samples
            target_width = float(np.median([stroke_width(g) for g, _, _ in pieces]))
            for k, (g, px, py) in enumerate(marks):
                grow = int(round((target_width - stroke_width(g)) / 2))
                if grow > 0:
                    g = ImageOps.expand(g, grow, 0).filter(ImageFilter.MaxFilter(2 * grow + 1))
                    marks[k] = (g, px - grow, py - grow)
        for g, px, py in pieces + marks:
            paste_max(canvas, g, px, py)
        mask = Image.fromarray(canvas, "L")
        writers_used = ";".join(sorted(used, key=lambda k: -used[k]))
        font_name = punct_face.name if punct_size is not None else ""
        return mask, baseline, target, cap, text, font_name, writers_used

    @staticmethod
    def finish(mask, baseline, target, rng, shear_range):
        """Stroke width, slant, wobble, elastic distortion, crop, scale and paper."""
        bbox = mask.getbbox()
        if bbox is None:
            return None
        pad = 8
        x0, y0 = max(0, bbox[0] - pad), max(0, bbox[1] - pad)
        mask = mask.crop((x0, y0, min(mask.width, bbox[2] + pad), min(mask.height, bbox[3] + pad)))
        baseline -= y0
        height = bbox[3] - bbox[1]
        if rng.random() < 0.7:
            mask = vary_stroke(mask, rng, height)
        shear = rng.uniform(-shear_range, shear_range)
        mask, baseline = warp_line(mask, baseline, height, rng, shear,
                                   wobble=rng.uniform(0, 0.06), elastic=rng.uniform(0, 0.03))
        fitted = crop_and_scale(mask, baseline, rng, target)
        if fitted is None:
            return None
        return on_paper(*fitted, rng)


# --------------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------------

CORPUS = None  # set in the parent before the workers fork


def render_task(task):
    """Render and save one line; returns its manifest row (or None if nothing could be drawn)."""
    out_dir, seed, split, kind, index = task
    rng = np.random.default_rng([seed, SPLIT_CODES[(split, kind)], index])
    for _ in range(5):
        if kind == "font":
            img, text, font, writer = CORPUS.font_line(rng, split)
        else:
            img, text, font, writer = CORPUS.composed_line(rng, split)
        if img is not None and text.strip():
            break
    else:
        return None
    rel = f"images/{split}/{index:07d}.png"
    img.save(os.path.join(out_dir, rel), compress_level=3)
    return [rel, text, kind, split, font, writer]


def tasks(out_dir, seed, args):
    """All lines to draw, in manifest order."""
    jobs = [(out_dir, seed, "train", "font", i) for i in range(args.fonts_lines)]
    jobs += [(out_dir, seed, "train", "composed", args.fonts_lines + i)
             for i in range(args.composed_lines)]
    jobs += [(out_dir, seed, "val-font", "font", i) for i in range(args.validation_lines)]
    jobs += [(out_dir, seed, "val-composed", "composed", i) for i in range(args.validation_lines)]
    return jobs


def contact_sheet(out_dir, rows, seed, path, per_kind=24):
    """Write a contact sheet of random lines of each kind with their transcriptions."""
    rng = np.random.default_rng([seed, 99])
    label_font = ImageFont.load_default(size=15)
    columns = []
    for kind in ("font", "composed"):
        picks = [r for r in rows if r[2] == kind]
        picks = [picks[i] for i in sorted(rng.choice(len(picks), min(per_kind, len(picks)),
                                                     replace=False))] if picks else []
        cells = []
        for rel, text, _, split, font, writer in picks:
            with Image.open(os.path.join(out_dir, rel)) as im:
                line = im.convert("L")
            line.thumbnail((900, 56))
            cell = Image.new("L", (920, 80), 255)
            cell.paste(line, (0, 0))
            ImageDraw.Draw(cell).text((0, 60), f"{split} | {text}  [{font or writer}]"[:110],
                                      fill=0, font=label_font)
            cells.append(cell)
        columns.append(cells)
    n = max(len(c) for c in columns)
    sheet = Image.new("L", (920 * len(columns) + 20, 80 * n), 200)
    for ci, cells in enumerate(columns):
        for ri, cell in enumerate(cells):
            sheet.paste(cell, (ci * 940, ri * 80))
    sheet.save(path)


def write_readme(path, args, counts, faces, elapsed):
    """Write OUT/README.txt: how the corpus was made."""
    held = sorted({f.name for f in faces if f.split == "val-font"})
    train = sorted({f.family for f in faces if f.split == "train"})
    lines = [
        "hwr synthetic text-line corpus (scripts/text_corpus.py)",
        "",
        f"seed: {args.seed}",
        f"command: {' '.join(sys.argv)}",
        "lines: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())),
        f"held-out fonts (val-font only): {', '.join(held)}",
        f"training font families: {', '.join(train)}",
        f"composed lines: {HOLDOUT_PERCENT}% of writers held out for val-composed (sha1 of "
        f"'source:writer' mod 100 < {HOLDOUT_PERCENT}; for nist, kaggle_az and canvas sha1 of the "
        "image path); punctuation for val-composed uses the held-out fonts",
        "manifest.csv: path,text,kind,split,font,writer (writer: source:writer ids of the samples "
        "used, most used first, ';'-separated; 'anon' for sources without writer ids)",
        "fonts.csv: font coverage table; text from /usr/share/dict/american-english, generated "
        "dates/times/amounts/codes/phone numbers/addresses and George Washington (gw:) lines",
        f"build time: {elapsed:.0f} s",
    ]
    Path(path).write_text("\n".join(lines) + "\n")


def main():
    """Parse arguments, build the corpus, write manifest, tables, README and contact sheet."""
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fonts-lines", type=int, default=60000, help="training font lines")
    ap.add_argument("--composed-lines", type=int, default=30000, help="training composed lines")
    ap.add_argument("--validation-lines", type=int, default=1500,
                    help="lines of each validation kind (val-font, val-composed)")
    ap.add_argument("--data", default=str(root / ".." / "shared" / "data"),
                    help="the shared data folder (chars/, real-lines/)")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()

    global CORPUS
    out_dir = os.path.abspath(os.path.expanduser(args.out))
    for split in ("train", "val-font", "val-composed"):
        os.makedirs(os.path.join(out_dir, "images", split), exist_ok=True)
    faces = load_fonts()
    print_font_table(faces)
    write_font_table(faces, os.path.join(out_dir, "fonts.csv"))
    if not any(f.split == "train" for f in faces) or not any(f.split == "val-font" for f in faces):
        sys.exit("not enough usable fonts: install them with scripts/build-text-corpus.sh")
    CORPUS = Corpus(faces, TextSource(args.data), args.data)

    jobs = tasks(out_dir, args.seed, args)
    rows, start, last = [], time.time(), time.time()
    pool = multiprocessing.get_context("fork").Pool(args.workers) if args.workers > 1 else None
    results = pool.imap(render_task, jobs, chunksize=16) if pool else map(render_task, jobs)
    for n, row in enumerate(results, 1):
        if row is not None:
            rows.append(row)
        if time.time() - last > 30 or n == len(jobs):
            last = time.time()
            print(f"{n}/{len(jobs)} lines, {n / (last - start):.1f} lines/s", flush=True)
    if pool:
        pool.close()
        pool.join()
    elapsed = time.time() - start

    with open(os.path.join(out_dir, "manifest.csv"), "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "text", "kind", "split", "font", "writer"])
        w.writerows(rows)
    counts = {}
    for r in rows:
        counts[f"{r[3]}/{r[2]}"] = counts.get(f"{r[3]}/{r[2]}", 0) + 1
    write_readme(os.path.join(out_dir, "README.txt"), args, counts, faces, elapsed)
    contact_sheet(out_dir, rows, args.seed, os.path.join(out_dir, "samples.png"))
    print(f"done: {len(rows)} lines in {elapsed:.0f} s -> {out_dir}")


if __name__ == "__main__":
    main()
