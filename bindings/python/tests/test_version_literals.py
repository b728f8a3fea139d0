"""One source of the version: HWR_VERSION_STRING of include/hwr.h.

Every other place that states a version either derives it from the header or is checked here:
the Python mirror (``hwr._lib.HWR_VERSION_STRING``, also compared by the C probe of
test_abi_mirror.py), the package version (``hwr.__version__``, and pyproject.toml, which reads it
from ``hwr._lib`` or states a literal), the pkg-config template (``@VERSION@``, filled in from the
header by ``make -C bindings/c pc``), and the loaded library (``hwr_version()``).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any, Dict

import pytest

import _header
import hwr
from hwr import _lib

PYPROJECT = _header.CHECKOUT / "bindings" / "python" / "pyproject.toml"
PC_TEMPLATE = _header.CHECKOUT / "bindings" / "c" / "hwr.pc.in"
HEADER_VERSION = _header.version_string()


def _toml(path: Path) -> Dict[str, Any]:
    try:
        import tomllib  # noqa: PLC0415 - Python 3.11+
    except ImportError:  # pragma: no cover - Python < 3.11
        import tomli as tomllib  # type: ignore[no-redef]  # noqa: PLC0415
    return tomllib.loads(path.read_text())


def test_header_version_is_consistent() -> None:
    d = _header.defines()
    parts = tuple(int(d[f"HWR_VERSION_{p}"]) for p in ("MAJOR", "MINOR", "PATCH"))
    assert HEADER_VERSION == "%d.%d.%d" % parts


def test_python_mirror_and_package_version() -> None:
    assert _lib.HWR_VERSION_STRING == HEADER_VERSION
    assert hwr.__version__ == HEADER_VERSION


def test_pyproject_version() -> None:
    project = _toml(PYPROJECT)
    if "version" in project["project"]:
        assert project["project"]["version"] == HEADER_VERSION, "pyproject.toml [project] version"
        return
    assert "version" in project["project"].get("dynamic", []), "pyproject.toml states no version"
    attr = project["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    module, _, name = attr.rpartition(".")
    assert getattr(importlib.import_module(module), name) == HEADER_VERSION, f"pyproject.toml: version from {attr}"


def test_installed_package_metadata() -> None:
    """An installed hwr package (pip install ./bindings/python) carries the header's version."""
    from importlib import metadata  # noqa: PLC0415

    try:
        files = metadata.files("hwr") or []
    except metadata.PackageNotFoundError:
        pytest.skip("hwr is not installed: the tests run on the source tree")
    if str(Path(hwr.__file__).resolve()) not in {str(Path(str(f.locate())).resolve()) for f in files}:
        pytest.skip(f"the tests import hwr from {Path(hwr.__file__).parent}, not from the installed package")
    assert metadata.version("hwr") == HEADER_VERSION, "reinstall the package: pip install ./bindings/python"


def test_pkg_config_template() -> None:
    versions = re.findall(r"^Version:\s*(\S+)\s*$", PC_TEMPLATE.read_text(), flags=re.M)
    assert len(versions) == 1, "hwr.pc.in: one Version line"
    assert versions[0] in ("@VERSION@", HEADER_VERSION), "hwr.pc.in: Version is @VERSION@ or HWR_VERSION_STRING"


def test_library_version() -> None:
    """The loaded libhwr.so is the version of the header it is built with."""
    assert hwr.version() == HEADER_VERSION
    assert hwr.version_number() == _lib.HWR_VERSION_NUMBER
