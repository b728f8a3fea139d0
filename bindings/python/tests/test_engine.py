"""Engine lifetime, model information, result invariants, options, library loading."""

from __future__ import annotations

import dataclasses
import math
import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

import hwr
import _glyphs
from conftest import BUILT_LIBRARY, CHECKOUT_MODEL

DIGITS = "0123456789"
PACKAGE_DIR = str(pathlib.Path(hwr.__file__).resolve().parent.parent)


# ---- library and versions -------------------------------------------------------------------

def test_versions() -> None:
    v = hwr.version()
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", v)
    assert m, v
    major, minor, patch = map(int, m.groups())
    assert hwr.version_number() == major * 1_000_000 + minor * 1000 + patch
    assert major == 1
    assert hwr.ABI_VERSION == 1
    assert re.fullmatch(r"\d+\.\d+\.\d+", hwr.__version__)


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **env, "PYTHONPATH": PACKAGE_DIR}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full_env,
                          capture_output=True, text=True, timeout=120)


def test_bad_hwr_library_is_a_clear_error(tmp_path: pathlib.Path) -> None:
    r = _run_python("""
        import hwr
        try:
            hwr.Engine()
        except hwr.LibraryLoadError as e:
            print("LOAD-ERROR", e)
    """, HWR_LIBRARY=str(tmp_path / "libnothere.so"))
    assert r.returncode == 0, r.stderr
    assert "LOAD-ERROR" in r.stdout and "libnothere.so" in r.stdout


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler to build a fake library")
def test_abi_mismatch_is_refused(tmp_path: pathlib.Path) -> None:
    src = tmp_path / "fake.c"
    src.write_text("int hwr_abi_version(void) { return 2; }\n")
    lib = tmp_path / "libfakehwr.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    r = _run_python("""
        import hwr
        try:
            hwr.version()
        except hwr.LibraryLoadError as e:
            print("LOAD-ERROR", e)
    """, HWR_LIBRARY=str(lib))
    assert r.returncode == 0, r.stderr
    assert "LOAD-ERROR" in r.stdout and "ABI version 2" in r.stdout


def test_works_without_numpy_and_pil(tmp_path: pathlib.Path) -> None:
    png = tmp_path / "seven.png"
    from PIL import Image
    Image.fromarray(_glyphs.gray("7")).save(png)
    r = _run_python(f"""
        import sys
        sys.modules["numpy"] = None  # make "import numpy" fail
        sys.modules["PIL"] = None
        import hwr
        with hwr.Engine() as e:
            print("TEXT", e.recognize_char({str(png)!r}).text)
            print("TEXT", e.recognize_char(open({str(png)!r}, "rb").read()).text)
        assert "numpy" not in sys.modules or sys.modules["numpy"] is None
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["TEXT 7", "TEXT 7"]


# ---- engine ---------------------------------------------------------------------------------

def test_model_information(engine: hwr.Engine) -> None:
    assert engine.model_name == "hwr-char"
    assert engine.model_version
    assert os.path.isfile(engine.model_path)
    assert engine.charset == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert "open" in repr(engine) and engine.model_name in repr(engine)


def test_int8_models_open_like_any_model_and_say_so(engine: hwr.Engine) -> None:
    """The shipped int8 copies (``hwr quantize``) load through the same options and read the same
    inputs; ``precisions`` tells them apart."""
    assert engine.precisions["char"] == "fp32"
    int8_char = CHECKOUT_MODEL.with_name("hwr-char-int8.hwrm")
    int8_text = CHECKOUT_MODEL.with_name("hwr-text-int8.hwrm")
    with hwr.Engine(model=int8_char, text_model=int8_text, threads=1) as e:
        assert e.precisions["char"] == "int8" and e.precisions["text"] == "int8"
        assert e.model_name == engine.model_name
        for ch in "7LTX":
            assert e.recognize_char(_glyphs.gray(ch)).text == ch


def test_explicit_model_path_and_threads(model_path: str) -> None:
    with hwr.Engine(pathlib.Path(model_path), threads=1) as e:
        assert os.path.samefile(e.model_path, model_path)
        assert e.recognize_char(_glyphs.gray("7")).text == "7"


def test_hwr_model_environment_variable(model_path: str, tmp_path: pathlib.Path) -> None:
    copy = tmp_path / "copy.hwrm"
    shutil.copy(model_path, copy)
    r = _run_python("""
        import hwr
        with hwr.Engine() as e:
            print(e.model_path)
    """, HWR_MODEL=str(copy))
    assert r.returncode == 0, r.stderr
    assert os.path.samefile(r.stdout.strip(), copy)


@pytest.mark.skipif(not (BUILT_LIBRARY.is_file() and CHECKOUT_MODEL.is_file()),
                    reason="needs the checkout's .build/release/libhwr.so and models/hwr-char.hwrm")
def test_default_model_of_a_checkout(tmp_path: pathlib.Path) -> None:
    # hwr.h: with no model_path and no HWR_MODEL, the default is "models/hwr-char.hwrm of a source
    # checkout" when nothing is installed: whatever the current directory is.
    env = {k: v for k, v in os.environ.items() if k != "HWR_MODEL"}
    env.update(HWR_LIBRARY=str(BUILT_LIBRARY), PYTHONPATH=PACKAGE_DIR)
    code = "import hwr\nwith hwr.Engine() as e: print(e.model_path)"
    r = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr.strip().splitlines()[-1]
    assert os.path.samefile(r.stdout.strip(), CHECKOUT_MODEL)


def test_context_manager_closes(model_path: str) -> None:
    with hwr.Engine(model_path) as e:
        assert not e.closed
        e.recognize_char(_glyphs.gray("7"))
    assert e.closed
    assert "closed" in repr(e)
    with pytest.raises(hwr.InvalidArgumentError, match="closed"):
        e.recognize_char(_glyphs.gray("7"))
    with pytest.raises(hwr.InvalidArgumentError, match="closed"):
        e.recognize_batch([_glyphs.gray("7")])
    e.close()  # a second close is harmless
    e.close()
    assert e.model_name == "hwr-char"  # information stays readable
    assert e.charset


def test_close_on_exception(model_path: str) -> None:
    with pytest.raises(RuntimeError):
        with hwr.Engine(model_path) as e:
            raise RuntimeError("boom")
    assert e.closed


def test_many_engines_open_and_close(model_path: str) -> None:
    for _ in range(20):
        e = hwr.Engine(model_path)
        assert e.recognize_char(_glyphs.gray("4")).text == "4"
        del e  # __del__ closes


# ---- results --------------------------------------------------------------------------------

@pytest.mark.parametrize("char", ["7", "L", "T", "X", "H", "4"])
def test_unambiguous_synthetic_characters(engine: hwr.Engine, char: str) -> None:
    r = engine.recognize_char(_glyphs.gray(char))
    assert r.text == char
    assert r.confidence > 0.5


@pytest.mark.parametrize("char", ["1", "0"])
def test_digit_only_shapes(engine: hwr.Engine, char: str) -> None:
    # A bar is "1", "I" or "L" and an ellipse "0" or "O": only digits make them unambiguous.
    r = engine.recognize_char(_glyphs.gray(char), charset=DIGITS)
    assert r.text == char
    assert r.confidence > 0.9


@pytest.mark.parametrize("top_k", [1, 3, 5, 36])
def test_result_invariants(engine: hwr.Engine, top_k: int) -> None:
    r = engine.recognize_char(_glyphs.gray("7"), top_k=top_k)
    assert len(r.candidates) == top_k
    assert r.candidates[0] == hwr.Candidate(r.text, r.confidence)
    assert r.alternatives == r.candidates
    assert r.chars == (hwr.Candidate(r.text, r.confidence),)
    probs = [c.probability for c in r.candidates]
    assert probs == sorted(probs, reverse=True)
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert len({c.text for c in r.candidates}) == top_k
    assert all(c.text in engine.charset and len(c.text) == 1 for c in r.candidates)
    if top_k == 36:
        assert math.isclose(sum(probs), 1.0, abs_tol=1e-4)
    assert str(r) == r.text


def test_results_are_frozen(engine: hwr.Engine) -> None:
    r = engine.recognize_char(_glyphs.gray("7"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.text = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.candidates[0].probability = 1.0  # type: ignore[misc]
    assert hash(r) == hash(engine.recognize_char(_glyphs.gray("7")))


def test_default_top_k_is_5(engine: hwr.Engine) -> None:
    assert len(engine.recognize_char(_glyphs.gray("T")).candidates) == 5


# ---- charset restriction --------------------------------------------------------------------

@pytest.mark.parametrize("char", _glyphs.chars())
def test_digit_charset_gives_only_digits(engine: hwr.Engine, char: str) -> None:
    r = engine.recognize_char(_glyphs.gray(char), top_k=10, charset=DIGITS)
    assert r.text in DIGITS
    assert all(c.text in DIGITS for c in r.candidates)
    assert sorted(c.text for c in r.candidates) == list(DIGITS)
    assert math.isclose(sum(c.probability for c in r.candidates), 1.0, abs_tol=1e-4)


def test_letter_charset_excludes_digits(engine: hwr.Engine) -> None:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    r = engine.recognize_char(_glyphs.gray("0"), top_k=26, charset=letters)
    assert r.text == "O"
    assert all(c.text in letters for c in r.candidates)


def test_lower_case_charset_means_upper_case_classes(engine: hwr.Engine) -> None:
    r = engine.recognize_char(_glyphs.gray("X"), top_k=3, charset="xyk")
    assert {c.text for c in r.candidates} == {"X", "Y", "K"}
    assert r.text == "X"


def test_restriction_renormalises(engine: hwr.Engine) -> None:
    full = engine.recognize_char(_glyphs.gray("1"), top_k=36)
    restricted = engine.recognize_char(_glyphs.gray("1"), top_k=2, charset="1L")
    p = {c.text: c.probability for c in full.candidates}
    total = p["1"] + p["L"]
    got = {c.text: c.probability for c in restricted.candidates}
    assert got["1"] == pytest.approx(p["1"] / total, abs=1e-4)
    assert got["L"] == pytest.approx(p["L"] / total, abs=1e-4)

