"""Test setup: find libhwr.so and the hwr package, and share an engine.

* The library: ``HWR_LIBRARY`` if set, else the checkout's ``.build/release/libhwr.so`` (this file
  is ``<checkout>/bindings/python/tests/conftest.py``) when it exists, else the system loader.
* The package: the installed ``hwr`` (``pip install ./bindings/python``), else the source next to
  this directory.
* The models: ``HWR_MODEL`` / ``HWR_LINE_MODEL`` / ``HWR_TEXT_MODEL`` if set; else, when the
  library is the checkout's build, the checkout's ``models/hwr-char.hwrm`` / ``hwr-line.hwrm`` /
  ``hwr-text.hwrm`` (set explicitly here
  because the library's own checkout fallback depends on the working directory: see
  ``test_default_model_of_a_checkout``, which checks that fallback on its own); else the library's
  default. A missing model makes the tests fail, not skip.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterator

import pytest

TESTS = Path(__file__).resolve().parent
CHECKOUT = TESTS.parents[2]
FIXTURES = CHECKOUT / "Tests" / "Fixtures" / "chars"

BUILT_LIBRARY = CHECKOUT / ".build" / "release" / "libhwr.so"
CHECKOUT_MODEL = CHECKOUT / "models" / "hwr-char.hwrm"
CHECKOUT_LINE_MODEL = CHECKOUT / "models" / "hwr-line.hwrm"
CHECKOUT_TEXT_MODEL = CHECKOUT / "models" / "hwr-text.hwrm"
#: The environment as the user gave it, before the fallbacks below.
ORIGINAL_HWR_MODEL = os.environ.get("HWR_MODEL")

if "HWR_LIBRARY" not in os.environ and BUILT_LIBRARY.is_file():
    os.environ["HWR_LIBRARY"] = str(BUILT_LIBRARY)
if os.path.realpath(os.environ.get("HWR_LIBRARY", "")) == os.path.realpath(BUILT_LIBRARY):
    if "HWR_MODEL" not in os.environ and CHECKOUT_MODEL.is_file():
        os.environ["HWR_MODEL"] = str(CHECKOUT_MODEL)
    if "HWR_LINE_MODEL" not in os.environ and CHECKOUT_LINE_MODEL.is_file():
        os.environ["HWR_LINE_MODEL"] = str(CHECKOUT_LINE_MODEL)
    if "HWR_TEXT_MODEL" not in os.environ and CHECKOUT_TEXT_MODEL.is_file():
        os.environ["HWR_TEXT_MODEL"] = str(CHECKOUT_TEXT_MODEL)

try:
    import hwr  # noqa: F401
except ImportError:
    sys.path.insert(0, str(TESTS.parent))
    import hwr  # noqa: F401


def pytest_report_header(config: pytest.Config) -> str:
    try:
        lib = f"{hwr.library_path()} (version {hwr.version()})"
    except hwr.LibraryLoadError as e:
        lib = f"NOT LOADED: {e}"
    return (f"hwr package: {Path(hwr.__file__).parent} ({hwr.__version__})\n"
            f"libhwr: {lib}\nHWR_MODEL: {os.environ.get('HWR_MODEL', '(library default)')}, "
            f"HWR_LINE_MODEL: {os.environ.get('HWR_LINE_MODEL', '(library default)')}, "
            f"HWR_TEXT_MODEL: {os.environ.get('HWR_TEXT_MODEL', '(library default)')}")


@pytest.fixture(scope="session")
def engine() -> Iterator["hwr.Engine"]:
    """One engine with the default model, shared by the whole session."""
    with hwr.Engine() as e:
        yield e


@pytest.fixture(scope="session")
def model_path(engine: "hwr.Engine") -> str:
    """The path of the default model file."""
    return engine.model_path
