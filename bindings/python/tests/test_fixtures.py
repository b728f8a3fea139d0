"""Accuracy on the real handwritten fixtures of the repository (Tests/Fixtures/chars)."""

from __future__ import annotations

import csv
import pathlib
from typing import Dict, List, Tuple

import pytest

import hwr
from conftest import CHECKOUT, FIXTURES

MANIFEST = FIXTURES / "manifest.csv"
MIN_ACCURACY = 0.9


def _load() -> List[Tuple[pathlib.Path, str, str]]:
    rows = []
    with open(MANIFEST, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames is not None and {"path", "label"} <= set(reader.fieldnames), reader.fieldnames
        for row in reader:
            rel = pathlib.Path(row["path"])
            # Paths are relative to the manifest; accept checkout-relative paths too.
            path = next((p for p in (FIXTURES / rel, CHECKOUT / rel, rel) if p.is_file()), FIXTURES / rel)
            rows.append((path, row["label"], row.get("source") or "?"))
    return rows


pytestmark = pytest.mark.skipif(
    not MANIFEST.is_file(),
    reason=f"no fixture manifest at {MANIFEST} (the real handwritten fixtures are not committed yet)")


def test_manifest_is_usable() -> None:
    rows = _load()
    assert len(rows) >= 10, "too few fixtures for an accuracy figure"
    missing = [str(p) for p, _, _ in rows if not p.is_file()]
    assert not missing, f"manifest lists missing files: {missing[:5]}"
    assert all(len(label) == 1 for _, label, _ in rows)


def test_fixture_accuracy(engine: hwr.Engine) -> None:
    rows = _load()
    # The model has one class per upper-case letter: compare labels case-insensitively.
    results = engine.recognize_batch([p for p, _, _ in rows], top_k=5, errors="return")
    wrong = []
    per_source: Dict[str, List[int]] = {}
    for (path, label, source), r in zip(rows, results):
        assert isinstance(r, hwr.CharResult), f"{path}: {r!r}"
        ok = r.text.upper() == label.upper()
        per_source.setdefault(source, [0, 0])[0] += ok
        per_source[source][1] += 1
        if not ok:
            wrong.append(f"{path.name}: {label!r} read as {r.text!r} ({r.confidence:.2f})")
    accuracy = 1 - len(wrong) / len(rows)
    by_source = ", ".join(f"{s} {c}/{n}" for s, (c, n) in sorted(per_source.items()))
    assert accuracy >= MIN_ACCURACY, (
        f"accuracy {accuracy:.3f} < {MIN_ACCURACY} on {len(rows)} fixtures ({by_source}); " + "; ".join(wrong[:20]))


def test_single_and_batch_agree_on_fixtures(engine: hwr.Engine) -> None:
    rows = _load()[:40]
    batch = engine.recognize_batch([p for p, _, _ in rows])
    for (path, _, _), b in zip(rows, batch):
        assert engine.recognize_char(path).text == b.text, path
