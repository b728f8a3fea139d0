"""Reading include/hwr.h as text, for the tests that compare its mirrors with it.

The header is the one source of the C API; these helpers extract what the mirrors must repeat:
the ``#define HWR_*`` constants, the struct fields, the ``static inline`` init functions and the
``HWR_API`` function declarations. Comments and preprocessor lines are removed first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

CHECKOUT = Path(__file__).resolve().parents[3]
HEADER = CHECKOUT / "include" / "hwr.h"

#: Macros of the header that are not constants of the API.
NOT_CONSTANTS = {"HWR_H", "HWR_API"}


@dataclass(frozen=True)
class Function:
    """An ``HWR_API`` declaration: return type and parameter types, as written (names dropped)."""

    name: str
    restype: str
    argtypes: Tuple[str, ...]


def text() -> str:
    return HEADER.read_text()


def _strip_comments(source: str) -> str:
    source = re.sub(r"/\*.*?\*/", " ", source, flags=re.S)
    return re.sub(r"//[^\n]*", " ", source)


def _code() -> str:
    """The header without comments and preprocessor lines (``#define HWR_API`` included)."""
    lines = _strip_comments(text()).splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def _type(declaration: str) -> str:
    """``const char *path`` -> ``const char *``; ``int32_t`` -> ``int32_t``; whitespace normalised."""
    declaration = " ".join(declaration.split())
    m = re.fullmatch(r"(.*?[\w*])\s*\b([A-Za-z_]\w*)", declaration)
    if m and m.group(1).strip() not in ("", "const", "struct"):
        declaration = m.group(1)
    return re.sub(r"\s*\*", " *", declaration).replace("* *", "**").strip()


def version_string() -> str:
    """``HWR_VERSION_STRING``."""
    return defines()["HWR_VERSION_STRING"].strip('"')


def defines() -> Dict[str, str]:
    """Every object-like ``#define HWR_*`` constant: name -> its C expression."""
    out: Dict[str, str] = {}
    for line in _strip_comments(text()).splitlines():
        m = re.match(r"\s*#\s*define\s+(HWR_\w+)(?!\()\s*(.*)$", line)
        if m and m.group(1) not in NOT_CONSTANTS:
            out[m.group(1)] = m.group(2).strip()
    return out


def structs() -> Dict[str, List[str]]:
    """``typedef struct NAME { ... } NAME;``: name -> field names in order."""
    out: Dict[str, List[str]] = {}
    for m in re.finditer(r"typedef\s+struct\s+(hwr_\w+)\s*\{(.*?)\}\s*\1\s*;", _code(), flags=re.S):
        fields = [re.findall(r"\w+", decl)[-1] for decl in m.group(2).split(";") if decl.strip()]
        out[m.group(1)] = fields
    return out


def init_functions() -> List[str]:
    """Names of the ``static inline`` functions (the *_init functions compiled into callers)."""
    return re.findall(r"static\s+inline\s+\w+\s+(hwr_\w+)\s*\(", _code())


def functions() -> Dict[str, Function]:
    """Every ``HWR_API`` function: name -> declaration."""
    out: Dict[str, Function] = {}
    for m in re.finditer(r"HWR_API\s+([^;(]*?)\b(hwr_\w+)\s*\(([^)]*)\)\s*;", _code()):
        params = [p for p in m.group(3).split(",") if p.strip() and p.strip() != "void"]
        out[m.group(2)] = Function(m.group(2), _type(m.group(1)), tuple(_type(p) for p in params))
    return out


def callback_types() -> Dict[str, Function]:
    """Function pointer typedefs: ``typedef R (*NAME)(ARGS);`` -> name -> declaration."""
    out: Dict[str, Function] = {}
    for m in re.finditer(r"typedef\s+([^;(]*?)\(\s*\*\s*(hwr_\w+)\s*\)\s*\(([^)]*)\)\s*;", _code()):
        params = [p for p in m.group(3).split(",") if p.strip() and p.strip() != "void"]
        out[m.group(2)] = Function(m.group(2), _type(m.group(1)), tuple(_type(p) for p in params))
    return out
