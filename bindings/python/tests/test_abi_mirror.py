"""The mirrors of include/hwr.h against the header itself.

* The Python binding (``hwr._lib``): a C probe compiled against hwr.h prints the size, alignment
  and every field's offset, size and kind of each struct, the value of every ``#define HWR_*``
  constant and what each ``static inline`` init function sets; the ctypes declarations and the
  Python init functions must give the same. The ctypes function declarations must match the
  header's ``HWR_API`` prototypes, and the binding's own option defaults must be the header's.
* The worker's function table (Sources/HWRWorker/EngineABI.swift, read as text): every function it
  resolves with dlsym is an ``HWR_API`` function of the header, with as many parameters.

The exported-symbol list (bindings/c/exported-symbols.txt) is compared with the header and with
``libhwr.so`` by ``make -C bindings/c check-symbols``.
"""

from __future__ import annotations

import ctypes
import inspect
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import _header
import hwr
from hwr import _lib

#: Python class of each struct of the header (hwr_engine_options: HwrEngineOptions), None if missing.
STRUCTS = {name: getattr(_lib, "".join(part.capitalize() for part in name.split("_")), None)
           for name in _header.structs()}

#: Arguments the probe and the test pass to the image init functions: data, size, width, height, stride.
IMAGE_ARGS = (0x1000, 100, 3, 4, 5)

#: C call of each static inline function of the header, and the Python function that mirrors it.
INITS = {
    "hwr_engine_options_init": ("hwr_engine_options", "hwr_engine_options_init(&v);",
                                _lib.engine_options_init),
    "hwr_recognize_options_init": ("hwr_recognize_options", "hwr_recognize_options_init(&v);",
                                   _lib.recognize_options_init),
    "hwr_image_init_encoded": ("hwr_image", "hwr_image_init_encoded(&v, (const void *)0x1000, 100);",
                               lambda: _lib.image_init(_lib.HWR_IMAGE_ENCODED, *IMAGE_ARGS[:2])),
    "hwr_image_init_gray8": ("hwr_image", "hwr_image_init_gray8(&v, (const void *)0x1000, 100, 3, 4, 5);",
                             lambda: _lib.image_init(_lib.HWR_IMAGE_GRAY8, *IMAGE_ARGS)),
    "hwr_image_init_rgba8": ("hwr_image", "hwr_image_init_rgba8(&v, (const void *)0x1000, 100, 3, 4, 5);",
                             lambda: _lib.image_init(_lib.HWR_IMAGE_RGBA8, *IMAGE_ARGS)),
}

PROBE_PRELUDE = r"""
#include <stdint.h>
#include <stdio.h>
#include "hwr.h"

static void print_signed(long long v) { printf("%lld\n", v); }
static void print_unsigned(unsigned long long v) { printf("%llu\n", v); }
static void print_float(double v) { printf("%.9g\n", v); }
static void print_pointer(const void *v) { printf("%llu\n", (unsigned long long)(uintptr_t)v); }
#define KIND(x) _Generic((x), float: "float", double: "float", char: "signed", signed char: "signed", \
    short: "signed", int: "signed", long: "signed", long long: "signed", _Bool: "unsigned", \
    unsigned char: "unsigned", unsigned short: "unsigned", unsigned int: "unsigned", \
    unsigned long: "unsigned", unsigned long long: "unsigned", default: "pointer")
#define PRINT(x) _Generic((x), float: print_float, double: print_float, char: print_signed, \
    signed char: print_signed, short: print_signed, int: print_signed, long: print_signed, \
    long long: print_signed, _Bool: print_unsigned, unsigned char: print_unsigned, \
    unsigned short: print_unsigned, unsigned int: print_unsigned, unsigned long: print_unsigned, \
    unsigned long long: print_unsigned, default: print_pointer)(x)
"""


def _probe_source() -> str:
    """A C program that prints, one fact a line, ``KEY<TAB>VALUE`` (``PRINT`` ends the line)."""
    body: List[str] = []
    for struct, fields in _header.structs().items():
        body.append(f'printf("size {struct}\\t%zu\\n", sizeof({struct}));')
        body.append(f'printf("align {struct}\\t%zu\\n", _Alignof({struct}));')
        for f in fields:
            body.append(f'printf("field {struct}.{f}\\t%zu %zu %s\\n", offsetof({struct}, {f}), '
                        f'sizeof(((const {struct} *)0)->{f}), KIND((({struct} *)0)->{f}));')
    for name, value in _header.defines().items():
        if value.startswith('"'):
            body.append(f'printf("define {name}\\t\\"%s\\"\\n", {name});')
        else:
            body.append(f'printf("define {name}\\t%lld\\n", (long long)({name}));')
    for init, (struct, call, _) in INITS.items():
        body.append(f"{{ {struct} v; {call}")
        for f in _header.structs()[struct]:
            body.append(f'  printf("init {init}.{f}\\t"); PRINT(v.{f});')
        body.append("}")
    return PROBE_PRELUDE + "int main(void) {\n    " + "\n    ".join(body) + "\n    return 0;\n}\n"


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, str]:
    """What the compiled probe prints: ``{"size hwr_image": "48", "define HWR_OK": "0", ...}``."""
    cc = shutil.which("cc")
    if cc is None:
        pytest.fail("no C compiler (cc): scripts/setup.sh installs gcc")
    tmp = tmp_path_factory.mktemp("probe")
    (tmp / "probe.c").write_text(_probe_source())
    build = subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", str(_header.HEADER.parent),
                            "-o", str(tmp / "probe"), str(tmp / "probe.c")], capture_output=True, text=True)
    assert build.returncode == 0, f"the probe does not compile:\n{build.stderr}"
    run = subprocess.run([str(tmp / "probe")], capture_output=True, text=True, check=True)
    return dict(line.split("\t", 1) for line in run.stdout.splitlines())


def _kind(t: Any) -> str:
    """The C kind of a ctypes type, as the probe's KIND names it."""
    if t in (ctypes.c_float, ctypes.c_double):
        return "float"
    if t in (ctypes.c_byte, ctypes.c_short, ctypes.c_int, ctypes.c_long, ctypes.c_longlong):
        return "signed"
    if t in (ctypes.c_bool, ctypes.c_ubyte, ctypes.c_ushort, ctypes.c_uint, ctypes.c_ulong, ctypes.c_ulonglong):
        return "unsigned"
    if t in (ctypes.c_char_p, ctypes.c_void_p) or issubclass(t, (ctypes._Pointer, ctypes._CFuncPtr)):
        return "pointer"
    return f"unknown ctypes type {t}"


def _value(struct: ctypes.Structure, field: str) -> str:
    """A field of a ctypes struct printed as the probe's PRINT does (pointers as addresses)."""
    t = dict(struct._fields_)[field]
    if _kind(t) == "pointer":
        return str(ctypes.c_void_p.from_buffer(struct, getattr(type(struct), field).offset).value or 0)
    if _kind(t) == "float":
        return f"{getattr(struct, field):.9g}"
    return str(getattr(struct, field))


def _layout_differences(cls: Any, struct: str, probe: Dict[str, str]) -> List[str]:
    """How a ctypes class differs from the C struct: field names, offsets, sizes, kinds, size."""
    header_fields = _header.structs()[struct]
    names = [name for name, _ in cls._fields_]
    if names != header_fields:
        return [f"fields {names}, hwr.h has {header_fields}"]
    out = []
    for name, t in cls._fields_:
        field = getattr(cls, name)
        python = f"{field.offset} {field.size} {_kind(t)}"
        if python != probe[f"field {struct}.{name}"]:
            out.append(f"{name}: offset size kind {python!r}, C: {probe[f'field {struct}.{name}']!r}")
    if str(ctypes.sizeof(cls)) != probe[f"size {struct}"]:
        out.append(f"sizeof {ctypes.sizeof(cls)}, C: {probe[f'size {struct}']}")
    if str(ctypes.alignment(cls)) != probe[f"align {struct}"]:
        out.append(f"alignment {ctypes.alignment(cls)}, C: {probe[f'align {struct}']}")
    return out


# ---- structs, constants, init functions --------------------------------------------------------

@pytest.mark.parametrize("struct", sorted(STRUCTS))
def test_struct_layout(probe: Dict[str, str], struct: str) -> None:
    cls = STRUCTS[struct]
    assert cls is not None, f"hwr._lib has no class for struct {struct}"
    assert _layout_differences(cls, struct, probe) == [], f"{cls.__name__} against {struct}"


def test_layout_check_can_fail(probe: Dict[str, str]) -> None:
    """A class missing a field, or with a field of another width, is caught."""
    fields = _lib.HwrEngineOptions._fields_

    class Missing(ctypes.Structure):
        _fields_ = fields[:-1]

    class Narrow(ctypes.Structure):
        _fields_ = fields[:-1] + [(fields[-1][0], ctypes.c_int32)]

    assert _layout_differences(Missing, "hwr_engine_options", probe)
    assert _layout_differences(Narrow, "hwr_engine_options", probe)


def test_every_constant(probe: Dict[str, str]) -> None:
    header = {key[len("define "):]: value for key, value in probe.items() if key.startswith("define ")}
    assert header, "the probe printed no constant"
    python = {name: getattr(_lib, name) for name in dir(_lib) if name.startswith("HWR_")}
    assert sorted(python) == sorted(header), "HWR_* constants of hwr._lib and of hwr.h"
    for name, value in header.items():
        expected = value.strip('"') if value.startswith('"') else int(value)
        assert python[name] == expected, name


def test_every_init_function_is_mirrored() -> None:
    assert sorted(_header.init_functions()) == sorted(INITS), "static inline functions of hwr.h"


@pytest.mark.parametrize("init", sorted(INITS))
def test_init_defaults(probe: Dict[str, str], init: str) -> None:
    struct, _, python_init = INITS[init]
    value = python_init()
    for field in _header.structs()[struct]:
        assert _value(value, field) == probe[f"init {init}.{field}"], f"{init}: {field}"


# ---- functions ---------------------------------------------------------------------------------

#: The ctypes type the binding must use for each C type of the header's prototypes.
C_TO_CTYPES: Dict[str, Any] = {
    "void": None,
    "const char *": ctypes.c_char_p,
    "int32_t": ctypes.c_int32,
    "int32_t *": ctypes.POINTER(ctypes.c_int32),
    "hwr_status": ctypes.c_int32,
    "size_t": ctypes.c_size_t,
    "float": ctypes.c_float,
    "void *": ctypes.c_void_p,
    "hwr_engine *": ctypes.c_void_p,
    "const hwr_engine *": ctypes.c_void_p,
    "hwr_result *": ctypes.c_void_p,
    "const hwr_result *": ctypes.c_void_p,
    "hwr_engine **": ctypes.POINTER(ctypes.c_void_p),
    "hwr_result **": ctypes.POINTER(ctypes.c_void_p),
    "const hwr_image *": ctypes.POINTER(_lib.HwrImage),
    "const hwr_engine_options *": ctypes.POINTER(_lib.HwrEngineOptions),
    "const hwr_recognize_options *": ctypes.POINTER(_lib.HwrRecognizeOptions),
    "hwr_log_callback": _lib.LOG_CALLBACK,
}


def _ctypes(c_type: str) -> Any:
    assert c_type in C_TO_CTYPES, f"no ctypes type known for the C type {c_type!r}: add it to C_TO_CTYPES"
    return C_TO_CTYPES[c_type]


def test_function_declarations() -> None:
    header = _header.functions()
    assert len(header) >= 29
    assert sorted(_lib._SIGNATURES) == sorted(header), "functions declared in hwr._lib and HWR_API in hwr.h"
    for name, fn in header.items():
        restype, argtypes = _lib._SIGNATURES[name]
        assert restype == _ctypes(fn.restype), f"{name}: return type {fn.restype}"
        assert list(argtypes) == [_ctypes(t) for t in fn.argtypes], f"{name}: parameters {fn.argtypes}"


def test_log_callback_type() -> None:
    c = _header.callback_types()["hwr_log_callback"]
    assert _lib.LOG_CALLBACK._restype_ is _ctypes(c.restype)
    assert list(_lib.LOG_CALLBACK._argtypes_) == [_ctypes(t) for t in c.argtypes]


def test_functions_of_1_0_are_required() -> None:
    """Only the functions appended after 1.0.0 may be missing from a library the binding loads."""
    assert _lib._OPTIONAL == {"hwr_set_log_callback"}


# ---- option defaults ---------------------------------------------------------------------------

RECOGNIZE_METHODS = ["recognize_char", "recognize_batch", "recognize_line", "recognize_lines", "recognize_sequence"]


@pytest.mark.parametrize("cls", [hwr.Engine, hwr.Client], ids=["Engine", "Client"])
def test_option_defaults_are_the_headers(cls: type) -> None:
    """A parameter named after a field of hwr_recognize_options defaults to None (the header's
    default, taken from recognize_options_init) or to exactly that default."""
    defaults = _lib.recognize_options_init()
    fields = dict(_lib.HwrRecognizeOptions._fields_)
    checked = 0
    for method in RECOGNIZE_METHODS:
        if not hasattr(cls, method):
            continue
        for p in inspect.signature(getattr(cls, method)).parameters.values():
            if p.name not in fields or p.default is inspect.Parameter.empty:
                continue
            checked += 1
            if p.default is None:
                continue
            assert p.default == getattr(defaults, p.name), f"{cls.__name__}.{method}({p.name}={p.default!r})"
    assert checked >= 10


def test_engine_options_default_to_the_headers() -> None:
    p = inspect.signature(hwr.Engine).parameters
    assert all(p[name].default is None for name in ("model", "threads", "line_model", "max_pixels"))


# ---- the worker's function table ---------------------------------------------------------------

ENGINE_ABI = _header.CHECKOUT / "Sources" / "HWRWorker" / "EngineABI.swift"


def _swift_table(source: str) -> List[Tuple[str, int, bool]]:
    """``symbol("hwr_x", as: Alias.self)`` calls: (name, parameter count, returns a value) from
    the ``typealias Alias = @convention(c) (P, ...) -> R`` of each."""
    aliases: Dict[str, Tuple[int, bool]] = {}
    for m in re.finditer(r"typealias\s+(\w+)\s*=\s*@convention\(c\)\s*\((.*?)\)\s*->\s*(\w+)", source, flags=re.S):
        params_text = m.group(2)
        while re.search(r"<[^<>]*>", params_text):  # generic arguments may hold commas
            params_text = re.sub(r"<[^<>]*>", "", params_text)
        params = [p for p in params_text.split(",") if p.strip()]
        aliases[m.group(1)] = (len(params), m.group(3) != "Void")
    out = []
    for m in re.finditer(r'symbol\("(\w+)",\s*as:\s*(\w+)\.self\)', source):
        assert m.group(2) in aliases, f"{m.group(1)}: no typealias {m.group(2)}"
        out.append((m.group(1), *aliases[m.group(2)]))
    return out


def test_worker_function_table() -> None:
    table = _swift_table(ENGINE_ABI.read_text())
    assert len(table) >= 20, "EngineABI.swift: too few symbol(...) calls found: has the code changed shape?"
    header = _header.functions()
    for name, count, returns in table:
        assert name in header, f"EngineABI.swift resolves {name}, which hwr.h does not declare HWR_API"
        fn = header[name]
        assert count == len(fn.argtypes), f"EngineABI.swift: {name} with {count} parameters, hwr.h has {fn.argtypes}"
        assert returns == (fn.restype != "void"), f"EngineABI.swift: {name} returns {'a value' if returns else 'Void'}"


def test_worker_table_parser_sees_wrong_names() -> None:
    table = _swift_table('typealias F = @convention(c) (OpaquePointer?, Int) -> Int32\n'
                         'let f = try symbol("hwr_no_such_function", as: F.self)')
    assert table == [("hwr_no_such_function", 2, True)]
    assert "hwr_no_such_function" not in _header.functions()
