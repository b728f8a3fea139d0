"""Test setup: find libhwr.so and the hwr package, and share an engine.

* The library: ``HWR_LIBRARY`` if set, else the checkout's ``.build/release/libhwr.so`` (this file
  is ``<checkout>/bindings/python/tests/conftest.py``) when it exists, else the system loader.
* The package: the installed ``hwr`` (``pip install ./bindings/python``), else the source next to
  this directory.
* The model: the library's default (``HWR_MODEL``, the installed model, or the checkout's
  ``models/hwr-char.hwrm``). A missing model makes the tests fail, not skip.
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

if "HWR_LIBRARY" not in os.environ:
    _built = CHECKOUT / ".build" / "release" / "libhwr.so"
    if _built.is_file():
        os.environ["HWR_LIBRARY"] = str(_built)

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
            f"libhwr: {lib}\nHWR_MODEL: {os.environ.get('HWR_MODEL', '(library default)')}")


@pytest.fixture(scope="session")
def engine() -> Iterator["hwr.Engine"]:
    """One engine with the default model, shared by the whole session."""
    with hwr.Engine() as e:
        yield e


@pytest.fixture(scope="session")
def model_path(engine: "hwr.Engine") -> str:
    """The path of the default model file."""
    return engine.model_path
