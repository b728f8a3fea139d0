"""Page mode (HWR_MODE_PAGE, and HWR_MODE_AUTO on an image with several lines) through the binding.

The segmentation and the page's accuracy are measured by the Swift tests (PageTests.swift); here
the binding's side is checked: ``recognize_page`` / ``recognize_pages`` and ``LineResult.page``
carry the library's layout (lines top to bottom, words left to right, boxes in the original
image's pixels after EXIF orientation), the options reach the library, and the errors are the
library's (a blank page, no line model).
"""

from __future__ import annotations

import csv
import io
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
from typing import Iterator, List, Sequence, Tuple

import numpy as np
import pytest
from PIL import Image

import hwr

FIXTURES = pathlib.Path(__file__).resolve().parents[3] / "Tests" / "Fixtures"
TWO_LINES = FIXTURES / "inputs" / "08-two-lines.png"
LINES = FIXTURES / "lines"
PACKAGE_DIR = str(pathlib.Path(hwr.__file__).resolve().parent.parent)


@pytest.fixture(scope="module")
def line_engine(engine: hwr.Engine) -> Iterator[hwr.Engine]:
    if engine.line_model_path is None:
        pytest.fail("the engine found no line model: set HWR_LINE_MODEL or install models/hwr-line.hwrm")
    yield engine


def inside(inner: hwr.Box, outer: hwr.Box, slack: int = 1) -> bool:
    return (inner.x >= outer.x - slack and inner.y >= outer.y - slack
            and inner.right <= outer.right + slack and inner.bottom <= outer.bottom + slack)


def check_page(page: hwr.Page, image_size: Tuple[int, int]) -> None:
    """What every page read must satisfy: types, text, confidences, boxes in the image, order."""
    width, height = image_size
    assert isinstance(page, hwr.Page) and isinstance(page.lines, tuple)
    assert str(page) == page.text == "\n".join(line.text for line in page.lines)
    assert 0.0 <= page.confidence <= 1.0
    for line in page.lines:
        assert isinstance(line, hwr.PageLine) and isinstance(line.box, hwr.Box)
        assert str(line) == line.text
        assert 0.0 <= line.confidence <= 1.0
        assert line.box.width > 0 and line.box.height > 0
        assert 0 <= line.box.x and line.box.right <= width and 0 <= line.box.y and line.box.bottom <= height
        assert line.text == " ".join(w.text for w in line.words)
        for word in line.words:
            assert isinstance(word, hwr.Word) and word.text and " " not in word.text
            assert 0.0 <= word.confidence <= 1.0
            assert inside(word.box, line.box), (word, line.box)
        xs = [w.box.x for w in line.words]
        assert xs == sorted(xs), "words left to right"
    ys = [line.box.y + line.box.height / 2 for line in page.lines]
    assert ys == sorted(ys), "lines top to bottom"
    assert page.words == tuple(w for line in page.lines for w in line.words)


# ---- the handed two-line input -------------------------------------------------------------------

def test_two_lines_are_read_as_a_page(line_engine: hwr.Engine) -> None:
    page = line_engine.recognize_page(TWO_LINES)
    check_page(page, Image.open(TWO_LINES).size)
    assert page.text == "2048\n7315"
    assert [line.text for line in page.lines] == ["2048", "7315"]
    first, second = page.lines
    assert first.box.bottom <= second.box.y, "the lines do not overlap"
    for line in page.lines:
        assert len(line.words) == 1
        word = line.words[0]
        assert word.text == line.text
        assert inside(word.box, line.box)
        assert word.box.width > line.box.width / 2, "the one word of the line spans most of it"


def test_auto_mode_gives_the_layout_of_a_multi_line_image(line_engine: hwr.Engine) -> None:
    r = line_engine.recognize_line(TWO_LINES, auto=True)
    assert isinstance(r, hwr.LineResult)
    assert r.page is not None and len(r.page.lines) == 2
    assert r.text == r.page.text == "2048\n7315"
    assert r.page == line_engine.recognize_page(TWO_LINES), "the same layout as page mode"
    assert r.candidates == (hwr.Candidate(r.text, r.confidence),) and r.chars == ()


def test_single_lines_and_characters_have_no_page(line_engine: hwr.Engine) -> None:
    word = LINES / "word-000.png"
    assert line_engine.recognize_line(word).page is None
    assert line_engine.recognize_line(word, auto=True).page is None
    assert line_engine.recognize_lines([word], auto=True)[0].page is None
    assert not hasattr(line_engine.recognize_char(FIXTURES / "formats" / "K.jpg"), "page")


def test_line_mode_refuses_several_lines(line_engine: hwr.Engine) -> None:
    with pytest.raises(hwr.InvalidArgumentError, match="page"):
        line_engine.recognize_line(TWO_LINES)


def test_boxes_are_in_the_original_image_after_exif_orientation(line_engine: hwr.Engine) -> None:
    """The page stored turned a quarter turn with EXIF Orientation 6: the boxes are those of the
    upright image (as it is meant to be viewed), not of the stored pixels."""
    upright = Image.open(TWO_LINES).convert("L")
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to view
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", exif=exif, quality=95)
    turned = line_engine.recognize_page(buffer.getvalue())
    check_page(turned, upright.size)
    expected = line_engine.recognize_page(np.asarray(upright))
    assert turned.text == expected.text == "2048\n7315"
    for a, b in zip(turned.lines, expected.lines):
        assert all(abs(p - q) <= 3 for p, q in zip(a.box, b.box)), (a.box, b.box)


# ---- composed pages --------------------------------------------------------------------------------

INDENTS = [30, 120, 60, 400, 30, 200]


def fixture_lines() -> List[dict]:
    """The composed line fixtures of at least 3 characters, as PageTests.swift takes them."""
    with open(LINES / "manifest.csv", newline="") as f:
        return [row for row in csv.DictReader(f) if row["source"] == "composed" and len(row["text"]) >= 3]


Extent = Tuple[int, int, int, int]  # left, top, right, bottom


def compose(rows: Sequence[dict], scale: int = 2, gap: int = 18,
            width: int = 900) -> Tuple[np.ndarray, List[Tuple[Extent, Extent]]]:
    """A white page with the fixture lines (light ink on black: inverted) scaled by ``scale``,
    ``gap`` pixels apart, indented by turns; with the extent of each line's dark ink (below 128)
    and of all its ink, faint marks included (below 250)."""
    strips = []
    for row in rows:
        ink = 255 - np.asarray(Image.open(LINES / row["path"]).convert("L"))
        strips.append(np.kron(ink, np.ones((scale, scale), np.uint8)))
    page = np.full((60 + sum(s.shape[0] + gap for s in strips), width), 255, np.uint8)
    extents = []
    top = 30
    for k, strip in enumerate(strips):
        left = INDENTS[k % len(INDENTS)]
        strip = strip[:, :width - left]
        h, w = strip.shape
        page[top:top + h, left:left + w] = np.minimum(page[top:top + h, left:left + w], strip)
        extents.append(tuple(  # type: ignore[arg-type]
            (left + int(xs.min()), top + int(ys.min()), left + int(xs.max()) + 1, top + int(ys.max()) + 1)
            for ys, xs in (np.nonzero(strip < 128), np.nonzero(strip < 250))))
        top += h + gap
    return page, extents


@pytest.mark.parametrize("start,count", [(0, 4), (6, 5), (12, 6), (18, 6), (24, 5)])
def test_composed_pages_are_segmented_into_their_lines(line_engine: hwr.Engine, start: int, count: int) -> None:
    rows = fixture_lines()
    assert len(rows) >= 30
    image, extents = compose(rows[start:start + count])
    page = line_engine.recognize_page(image)
    check_page(page, (image.shape[1], image.shape[0]))
    assert len(page.lines) == count, [line.box for line in page.lines]
    for upper, lower in zip(page.lines, page.lines[1:]):
        assert upper.box.bottom <= lower.box.y, "lines top to bottom, not overlapping"
    for line, (dark, faint) in zip(page.lines, extents):
        # Each line's box is the ink placed there: it holds the dark ink and lies within all of
        # it (the library's ink threshold is between the two), give or take the few pixels its
        # preprocessing smooths the edges by; the lines are 18 pixels apart or more.
        box = (line.box.x, line.box.y, line.box.right, line.box.bottom)
        assert inside(hwr.Box(dark[0], dark[1], dark[2] - dark[0], dark[3] - dark[1]), line.box, slack=2), (box, dark)
        assert inside(line.box, hwr.Box(faint[0], faint[1], faint[2] - faint[0], faint[3] - faint[1]), slack=4), \
            (box, faint)
        assert line.text and line.words


@pytest.mark.parametrize("degrees", [2.5, -3.0])
def test_turned_composed_pages_keep_their_lines(line_engine: hwr.Engine, degrees: float) -> None:
    image, _ = compose(fixture_lines()[:6])
    turned = Image.fromarray(image).rotate(degrees, resample=Image.BILINEAR, fillcolor=255)
    page = line_engine.recognize_page(turned)
    check_page(page, turned.size)
    assert len(page.lines) == 6


def test_pages_batch_is_page_by_page(line_engine: hwr.Engine) -> None:
    image, _ = compose(fixture_lines()[:4])
    blank = np.full((300, 400), 240, np.uint8)
    out = line_engine.recognize_pages([TWO_LINES, b"junk", image, blank], errors="return")
    assert out[0] == line_engine.recognize_page(TWO_LINES)
    assert type(out[1]) is hwr.ImageDecodeError and out[1].index == 1
    assert isinstance(out[2], hwr.Page) and len(out[2].lines) == 4
    assert out[2] == line_engine.recognize_page(image)
    assert type(out[3]) is hwr.ImageEmptyError and out[3].index == 3
    with pytest.raises(hwr.ImageDecodeError) as info:
        line_engine.recognize_pages([TWO_LINES, b"junk", blank])
    assert info.value.index == 1 and info.value.results is not None and len(info.value.results) == 3
    assert line_engine.recognize_pages([]) == []


# ---- options and errors ------------------------------------------------------------------------------

def test_page_options_reach_each_line(line_engine: hwr.Engine) -> None:
    assert line_engine.recognize_page(TWO_LINES, charset="0123456789", pattern=r"\d{4}", beam_width=5).text \
        == "2048\n7315"
    assert line_engine.recognize_page(TWO_LINES, lexicon=["2048", "7315", "1234"], alternatives=2).text \
        == "2048\n7315"
    rejected = line_engine.recognize_page(TWO_LINES, reject_threshold=1.0)
    assert len(rejected.lines) == 2
    assert all(line.text == "" and line.words == () for line in rejected.lines)


def test_blank_page_is_empty(line_engine: hwr.Engine) -> None:
    with pytest.raises(hwr.ImageEmptyError):
        line_engine.recognize_page(np.full((300, 400), 240, np.uint8))


@pytest.mark.parametrize("kwargs", [{"beam_width": 0}, {"alternatives": 101}, {"pattern": "[A-"},
                                    {"lexicon": []}, {"reject_threshold": 1.5}, {"charset": "@"}])
def test_page_bad_options(line_engine: hwr.Engine, kwargs: dict) -> None:
    with pytest.raises(hwr.InvalidArgumentError):
        line_engine.recognize_page(TWO_LINES, **kwargs)


@pytest.mark.parametrize("kwargs", [{"lexicon": "2048"}, {"beam_width": 2.0}, {"reject_threshold": "high"}])
def test_page_option_types(line_engine: hwr.Engine, kwargs: dict) -> None:
    with pytest.raises(TypeError):
        line_engine.recognize_page(TWO_LINES, **kwargs)


def test_page_types() -> None:
    box = hwr.Box(1, 2, 30, 40)
    x, y, w, h = box
    assert (x, y, w, h, box.right, box.bottom) == (1, 2, 30, 40, 31, 42)
    word = hwr.Word("ab", 0.5, box)
    line = hwr.PageLine("ab", 0.5, box, (word,))
    page = hwr.Page("ab", 0.5, (line,))
    assert str(page) == str(line) == str(word) == "ab" and page.words == (word,)
    with pytest.raises(AttributeError):
        page.text = "x"  # type: ignore[misc]
    assert hwr.LineResult("a", 1.0, ()).page is None


# ---- no line model -----------------------------------------------------------------------------------

MODEL_DIRS = ("/usr/local/share/hwr/models", "/usr/share/hwr/models")


def test_engine_without_line_model_cannot_read_pages(model_path: str, tmp_path: pathlib.Path) -> None:
    """As test_lines.test_engine_without_line_model: a copy of the library in an empty prefix, run
    from an empty directory, without HWR_LINE_MODEL and HWR_TEXT_MODEL. A line model installed in a standard prefix
    (which the library also searches) is hidden by an empty directory mounted over it in a private
    mount namespace of the child (needs root and unshare; skipped otherwise)."""
    lib = tmp_path / "prefix" / "lib" / "libhwr.so"
    lib.parent.mkdir(parents=True)
    shutil.copy(hwr.library_path(), lib)
    env = {k: v for k, v in os.environ.items() if k not in ("HWR_LINE_MODEL", "HWR_TEXT_MODEL")}
    env.update(HWR_LIBRARY=str(lib), HWR_MODEL=model_path, PYTHONPATH=PACKAGE_DIR)
    code = textwrap.dedent("""
        import hwr
        with hwr.Engine() as e:
            print("LINE-MODEL", e.line_model_path)
            for call in (lambda: e.recognize_page(%r), lambda: e.recognize_pages([%r], errors="return")):
                try:
                    call()
                except hwr.UnsupportedError as err:
                    print("UNSUPPORTED", err.status)
    """ % (str(TWO_LINES), str(TWO_LINES)))
    command = [sys.executable, "-c", code]
    installed = [d for d in MODEL_DIRS
                 if any(os.path.exists(os.path.join(d, f)) for f in ("hwr-line.hwrm", "hwr-text.hwrm"))]
    if installed:
        unshare = shutil.which("unshare")
        if unshare is None or os.geteuid() != 0:
            pytest.skip(f"a line model is installed in {installed[0]} (hiding it needs root and unshare)")
        empty = tmp_path / "empty"
        empty.mkdir()
        mounts = " && ".join(f"mount --bind '{empty}' '{d}'" for d in installed)
        command = [unshare, "--mount", "--propagation", "private", "sh", "-c", mounts + ' && exec "$@"', "sh",
                   *command]
        probe = subprocess.run([unshare, "--mount", "--propagation", "private", "sh", "-c", mounts],
                               capture_output=True, text=True, timeout=60)
        if probe.returncode != 0:
            pytest.skip(f"a line model is installed in {installed[0]} and cannot be hidden: {probe.stderr.strip()}")
    r = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:3] == ["LINE-MODEL None", "UNSUPPORTED 7", "UNSUPPORTED 7"]
