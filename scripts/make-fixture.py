#!/usr/bin/env python3
"""Cuts the committed test fixture out of the writer-disjoint validation split of ../shared/data.

The split mirrors Sources/HWRTraining/Split.swift exactly (FNV-1a of "hwr|source|w:writer" for
sources with at least 10 writers, "hwr|source|i:index" otherwise; 15% held out), so every fixture
image comes from writers (or images) the shipped model never trained on.

Writes Tests/Fixtures/chars/ (PNGs + manifest.csv) and Tests/Fixtures/formats/ (one real image in
every input kind the preprocessing accepts). Needs Pillow. Run from the repository root:
    python3 scripts/make-fixture.py ../shared/data
"""
import csv, gzip, os, random, sys
from collections import defaultdict
from PIL import Image

root = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
out = "Tests/Fixtures"
PER_SOURCE, MNIST_COUNT = 45, 80

def fnv1a(s):
    h = 0xCBF29CE484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h

def held_out(key):
    return fnv1a(key) % 10000 < 1500

rows = list(csv.DictReader(open(f"{root}/chars/manifest.csv")))
writers = defaultdict(set)
for r in rows:
    if r["writer"]:
        writers[r["source"]].add(r["writer"])
validation = defaultdict(list)
for i, r in enumerate(rows):
    index = 60000 + i  # MNIST comes first in the combined set
    s = r["source"]
    key = f"hwr|{s}|w:{r['writer']}" if len(writers[s]) >= 10 else f"hwr|{s}|i:{index}"
    if held_out(key):
        validation[s].append(r)

rng = random.Random(7)
os.makedirs(f"{out}/chars", exist_ok=True)
manifest = [("path", "label", "source", "writer")]
for s in sorted(validation):
    for r in rng.sample(validation[s], PER_SOURCE):
        name = f"{s}-{len(manifest):04d}.png"
        Image.open(f"{root}/chars/{r['path']}").save(f"{out}/chars/{name}", optimize=True)
        manifest.append((name, r["label"], s, r["writer"]))

images = gzip.open(f"{root}/mnist/train-images-idx3-ubyte.gz").read()[16:]
labels = gzip.open(f"{root}/mnist/train-labels-idx1-ubyte.gz").read()[8:]
mnist_val = [i for i in range(60000) if held_out(f"hwr|mnist|i:{i}")]
for i in rng.sample(mnist_val, MNIST_COUNT):
    name = f"mnist-{len(manifest):04d}.png"
    Image.frombytes("L", (28, 28), images[i * 784:(i + 1) * 784]).save(f"{out}/chars/{name}", optimize=True)
    manifest.append((name, str(labels[i]), "mnist", ""))
with open(f"{out}/chars/manifest.csv", "w", newline="") as f:
    csv.writer(f, lineterminator="\n").writerows(manifest)

# One real image (a tasnim "K", dark ink on grey paper) in every input kind.
os.makedirs(f"{out}/formats", exist_ok=True)
k = next(r for r in validation["tasnim"] if r["label"] == "K")
grey = Image.open(f"{root}/chars/{k['path']}").convert("L")
grey.save(f"{out}/formats/K-grey-background.png")
grey.save(f"{out}/formats/K.jpg", quality=90)
grey.save(f"{out}/formats/K.pgm")
Image.eval(grey, lambda v: 255 - v).save(f"{out}/formats/K-inverted.png")
big = grey.resize((grey.width * 12, grey.height * 12), Image.BILINEAR)
big.save(f"{out}/formats/K-large.png", optimize=True)
# Transparent background: black ink whose opacity is the ink strength.
ink = Image.eval(grey, lambda v: max(0, min(255, (200 - v) * 3)))
rgba = Image.merge("RGBA", (Image.new("L", grey.size, 0),) * 3 + (ink,))
rgba.save(f"{out}/formats/K-transparent.png")
with open(f"{out}/formats/K.rgba", "wb") as f:
    f.write(rgba.tobytes())
with open(f"{out}/formats/K.rgba.size", "w") as f:
    f.write(f"{grey.width} {grey.height}\n")
print(f"{len(manifest) - 1} fixture images; format samples from {k['path']}")
