"""The committed Swift code of proto/hwr.proto (Sources/HWRProto/hwr.pb.swift) against the proto.

Its generator (protoc-gen-swift) is not a Debian package, so the Swift file is not regenerated
here (scripts/generate-proto.sh does that by hand); instead the proto's descriptor, built with
Debian's protoc, is compared with what the Swift file declares:

* every message (``protoMessageName``) and enum of the proto has its Swift type, and no other;
* each message's fields: the names and numbers of its ``_protobuf_nameMap`` (the names used by the
  JSON and text formats), and, from ``traverse``, the wire type and whether it is repeated;
* each enum's values: the names and numbers of its ``_protobuf_nameMap`` and the numbers of its
  Swift cases (``init?(rawValue:)``);
* the documentation: every comment of the proto's messages, fields, enums and values, and the
  file's header comment, is a doc comment of the Swift file (a stale copy keeps the old wording).

The Python and C code is regenerated and compared by ``bindings/regenerate-proto.sh --check``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

import _header

pytest.importorskip("google.protobuf", reason="protobuf is not installed (pip install 'hwr[test]')")
from google.protobuf import descriptor_pb2  # noqa: E402

PROTO = _header.CHECKOUT / "proto" / "hwr.proto"
SWIFT = _header.CHECKOUT / "Sources" / "HWRProto" / "hwr.pb.swift"

#: FieldDescriptorProto.Type -> the type in the name of SwiftProtobuf's visitor methods.
SWIFT_WIRE_TYPES = {
    "TYPE_DOUBLE": "Double", "TYPE_FLOAT": "Float", "TYPE_INT64": "Int64", "TYPE_UINT64": "UInt64",
    "TYPE_INT32": "Int32", "TYPE_FIXED64": "Fixed64", "TYPE_FIXED32": "Fixed32", "TYPE_BOOL": "Bool",
    "TYPE_STRING": "String", "TYPE_GROUP": "Group", "TYPE_MESSAGE": "Message", "TYPE_BYTES": "Bytes",
    "TYPE_UINT32": "UInt32", "TYPE_ENUM": "Enum", "TYPE_SFIXED32": "SFixed32", "TYPE_SFIXED64": "SFixed64",
    "TYPE_SINT32": "SInt32", "TYPE_SINT64": "SInt64",
}


# ---- the proto's side: its descriptor -----------------------------------------------------------

@dataclass
class Shape:
    """What both sides declare: a message's fields or an enum's values."""

    names: Dict[int, str] = field(default_factory=dict)        # number -> proto name
    kinds: Dict[int, Tuple[str, str]] = field(default_factory=dict)  # number -> (label, wire type)
    cases: List[int] = field(default_factory=list)             # enums: Swift case numbers


def descriptor(proto: Path, tmp: Path) -> descriptor_pb2.FileDescriptorProto:
    """The FileDescriptorProto of ``proto``, with comments, built by protoc."""
    protoc = shutil.which("protoc")
    if protoc is None:
        pytest.fail("protoc not found: apt-get install protobuf-compiler (scripts/setup.sh installs it)")
    out = tmp / "descriptor.pb"
    subprocess.run([protoc, f"--proto_path={proto.parent}", "--include_source_info",
                    f"--descriptor_set_out={out}", proto.name], check=True, cwd=proto.parent)
    files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    assert len(files) == 1
    return files[0]


def proto_shapes(fd: descriptor_pb2.FileDescriptorProto) -> Tuple[Dict[str, Shape], Dict[str, Shape]]:
    """(messages, enums) by full name, nested ones included."""
    messages: Dict[str, Shape] = {}
    enums: Dict[str, Shape] = {}
    label = descriptor_pb2.FieldDescriptorProto.Label
    types = descriptor_pb2.FieldDescriptorProto.Type

    def add_enum(e: descriptor_pb2.EnumDescriptorProto, scope: str) -> None:
        enums[f"{scope}.{e.name}"] = Shape(names={v.number: v.name for v in e.value},
                                            cases=sorted({v.number for v in e.value}))

    def add_message(m: descriptor_pb2.DescriptorProto, scope: str) -> None:
        name = f"{scope}.{m.name}"
        map_entries = {f"{name}.{n.name}" for n in m.nested_type if n.options.map_entry}
        shape = Shape()
        for f in m.field:
            shape.names[f.number] = f.name
            if f.type_name.lstrip(".") in map_entries:
                shape.kinds[f.number] = ("map", "Map")
            else:
                repeated = label.Name(f.label) == "LABEL_REPEATED"
                shape.kinds[f.number] = ("repeated" if repeated else "singular", SWIFT_WIRE_TYPES[types.Name(f.type)])
        messages[name] = shape
        for n in m.nested_type:
            if not n.options.map_entry:
                add_message(n, name)
        for e in m.enum_type:
            add_enum(e, name)

    for m in fd.message_type:
        add_message(m, fd.package)
    for e in fd.enum_type:
        add_enum(e, fd.package)
    return messages, enums


def proto_comments(fd: descriptor_pb2.FileDescriptorProto) -> List[List[str]]:
    """The comments protoc-gen-swift copies into doc comments: the file's header (the comments
    before ``syntax``) and those of messages, fields, oneofs, enums and enum values (not of the
    service, which it does not generate). Each as its lines, without trailing blank lines."""
    out = []
    for loc in fd.source_code_info.location:
        path = list(loc.path)
        texts = []
        if path == [12]:  # syntax: the file's header comment
            texts = list(loc.leading_detached_comments) + [loc.leading_comments]
        elif path and path[0] in (4, 5):  # message_type, enum_type and everything inside them
            texts = [loc.leading_comments]
        for t in texts:
            lines = [line.rstrip() for line in t.split("\n")]
            while lines and not lines[-1]:
                lines.pop()
            if lines:
                out.append(lines)
    return out


# ---- the Swift side: hwr.pb.swift read as text --------------------------------------------------

def swift_string(literal: str) -> bytes:
    """The bytes of a Swift string literal's contents (escapes \\0 \\u{N} \\" \\\\ \\n \\t \\r \\')."""
    simple = {"0": "\0", "n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\"}

    def unescape(m: "re.Match[str]") -> str:
        return chr(int(m.group(1), 16)) if m.group(1) else simple[m.group(2)]

    return re.sub(r'\\(?:u\{([0-9A-Fa-f]+)\}|([0nrt"\'\\]))', unescape, literal).encode("utf-8")


def name_map(bytecode: bytes) -> Dict[int, str]:
    """Decodes a SwiftProtobuf ``_NameMap(bytecode:)`` program: number -> proto name.

    The format (SwiftProtobuf's NameMap.swift, BytecodeReader.swift): integers are base-64
    varints (6 bits a byte, bit 6 set on all but the last byte); strings are NUL-terminated. The
    program is a format number (0), then instructions: an opcode and its operands. Field and case
    numbers are deltas from the previous one: +1 for the *Next opcodes, an explicit operand for
    the *Delta ones."""
    pos = 0

    def integer() -> int:
        nonlocal pos
        value, shift = 0, 0
        while True:
            byte = bytecode[pos]
            pos += 1
            assert byte & 0x80 == 0, "invalid bytecode integer"
            value |= (byte & 0x3F) << shift
            if not byte & 0x40:
                return value
            shift += 6

    def string() -> str:
        nonlocal pos
        end = bytecode.index(0, pos)
        text, pos = bytecode[pos:end].decode("utf-8"), end + 1
        return text

    assert integer() == 0, "unknown bytecode program format"
    names: Dict[int, str] = {}
    number = 0
    while pos < len(bytecode):
        op = integer()
        if op in (1, 3, 5, 7, 9):  # sameNext, standardNext, uniqueNext, groupNext, aliasNext
            number += 1
        elif op in (2, 4, 6, 8, 10):  # the *Delta forms
            delta = integer()
            number += delta - (1 << 32) if delta >= 1 << 31 else delta  # an int32 stored as uint32
        if op in (1, 2, 3, 4, 7, 8):
            names[number] = string()
        elif op in (5, 6):  # unique: proto name, then JSON name
            names[number] = string()
            string()
        elif op in (9, 10):  # alias: the name, then its aliases
            names[number] = string()
            for _ in range(integer()):
                string()
        elif op == 11:  # reservedName
            string()
        elif op == 12:  # reservedNumbers: lower bound, size
            integer()
            integer()
        else:
            raise AssertionError(f"unknown name map opcode {op}")
    return names


def _name_map_of(block: str) -> Optional[Dict[int, str]]:
    m = re.search(r'_protobuf_nameMap\s*(?::[^=]*)?=\s*SwiftProtobuf\._NameMap\((?:bytecode:\s*"((?:[^"\\]|\\.)*)")?\)',
                  block)
    if m:
        return name_map(swift_string(m.group(1) or "\\0"))
    legacy = re.search(r"_protobuf_nameMap\s*(?::[^=]*)?=\s*\[(.*?)\n\s*\]", block, flags=re.S)
    if legacy:  # the dictionary literal of older generators: 1: .same(proto: "name"), ...
        return {int(n): name for n, name in re.findall(r'(-?\d+):\s*\.\w+\(proto:\s*"(\w+)"', legacy.group(1))}
    return None


def swift_shapes(source: str) -> Tuple[Dict[str, Shape], Dict[str, Shape]]:
    """(messages, enums) the Swift file declares, by proto full name."""
    package = re.search(r'_protobuf_package = "([\w.]+)"', source)
    assert package, "hwr.pb.swift: no _protobuf_package"
    prefix = "".join(part[:1].upper() + part[1:] + "_" for part in package.group(1).split("."))

    def proto_name(swift_type: str) -> str:
        assert swift_type.startswith(prefix), swift_type
        return f"{package.group(1)}.{swift_type[len(prefix):]}"

    # Top-level declarations and extensions: each runs to the next "}" in column 0.
    blocks = re.findall(r"^(?:[\w@]+ )*(enum|struct|extension) ([\w.]+)\b[^\n]*\{\n(.*?)^\}", source, flags=re.M | re.S)
    messages: Dict[str, Shape] = {}
    enums: Dict[str, Shape] = {}
    for kind, swift_type, body in blocks:
        if not swift_type.startswith(prefix):
            continue
        names = _name_map_of(body) if kind == "extension" else None
        if kind == "enum" or (kind == "extension" and "case UNRECOGNIZED" in body):
            cases = [int(n) for n in re.findall(r"case (-?\d+): self = \.", body)]
            enums.setdefault(proto_name(swift_type), Shape()).cases = sorted(cases)
        if names is None:
            continue
        message = re.search(r'protoMessageName: String = (?:_protobuf_package|([\w.]+)\.protoMessageName) \+ "\.(\w+)"', body)
        if message is None:  # an enum's names
            enums.setdefault(proto_name(swift_type), Shape()).names = names
            continue
        shape = messages.setdefault(proto_name(swift_type), Shape())
        shape.names = names
        for method, number in re.findall(r"visitor\.visit(\w+?)Field\(.*?fieldNumber: (\d+)\)", body, flags=re.S):
            m = re.fullmatch(r"(Singular|Repeated|Packed)(\w+)", method)
            shape.kinds[int(number)] = ("map", "Map") if m is None else (
                "singular" if m.group(1) == "Singular" else "repeated", m.group(2))
    return messages, enums


def swift_doc_comments(source: str) -> List[List[str]]:
    """The Swift file's doc comments (runs of ``///`` lines), each as its lines."""
    blocks: List[List[str]] = []
    current: List[str] = []
    for line in source.splitlines() + [""]:
        m = re.match(r"\s*///(.*)$", line)
        if m:
            current.append(m.group(1).rstrip())
        elif current:
            blocks.append(current)
            current = []
    return blocks


# ---- comparison ------------------------------------------------------------------------------

def differences(fd: descriptor_pb2.FileDescriptorProto, source: str) -> List[str]:
    """Every way the Swift declarations differ from the proto's descriptor."""
    out: List[str] = []
    proto_messages, proto_enums = proto_shapes(fd)
    swift_messages, swift_enums = swift_shapes(source)
    for what, proto, swift in (("message", proto_messages, swift_messages), ("enum", proto_enums, swift_enums)):
        for name in sorted(set(proto) - set(swift)):
            out.append(f"{what} {name}: in the proto, not in the Swift code")
        for name in sorted(set(swift) - set(proto)):
            out.append(f"{what} {name}: in the Swift code, not in the proto")
        for name in sorted(set(proto) & set(swift)):
            p, s = proto[name], swift[name]
            for number in sorted(set(p.names) | set(s.names)):
                if p.names.get(number) != s.names.get(number):
                    out.append(f"{what} {name}: number {number} is {p.names.get(number)!r} in the proto, "
                               f"{s.names.get(number)!r} in the Swift name map")
            for number in sorted(set(p.kinds) | set(s.kinds)):
                if p.kinds.get(number) != s.kinds.get(number):
                    out.append(f"{what} {name}: field {number} is {p.kinds.get(number)} in the proto, "
                               f"{s.kinds.get(number)} in the Swift traverse")
            if what == "enum" and p.cases != s.cases:
                out.append(f"enum {name}: values {p.cases} in the proto, Swift cases {s.cases}")
    swift_docs = swift_doc_comments(source)
    for comment in proto_comments(fd):
        if comment not in swift_docs:
            out.append("comment not in the Swift code (stale documentation):\n    //" + "\n    //".join(comment))
    return out


class Proto:
    """proto/hwr.proto's descriptor (a short repr keeps it out of failure reports)."""

    def __init__(self, fd: descriptor_pb2.FileDescriptorProto) -> None:
        self.fd = fd

    def __repr__(self) -> str:
        return f"<descriptor of {PROTO.name}>"


@pytest.fixture(scope="module")
def proto(tmp_path_factory: pytest.TempPathFactory) -> Proto:
    return Proto(descriptor(PROTO, tmp_path_factory.mktemp("proto")))


def test_swift_code_matches_the_proto(proto: Proto) -> None:
    found = differences(proto.fd, SWIFT.read_text())
    assert not found, ("Sources/HWRProto/hwr.pb.swift is not generated from proto/hwr.proto "
                       "(run scripts/generate-proto.sh):\n" + "\n".join(found))


def test_swift_parser_reads_every_declaration(proto: Proto) -> None:
    """The comparison is not vacuous: the Swift side has every message and enum, with fields."""
    messages, enums = swift_shapes(SWIFT.read_text())
    assert len(messages) >= 15 and len(enums) >= 3
    assert messages["hwr.v1.Request"].names[10] == "recognize"
    assert messages["hwr.v1.Request"].kinds[10] == ("singular", "Message")
    assert messages["hwr.v1.DecodingOptions"].kinds[3] == ("repeated", "String")
    assert enums["hwr.v1.StatusCode"].names[8] == "SHUTTING_DOWN"
    assert enums["hwr.v1.StatusCode"].names[9] == "DEADLINE_EXCEEDED"
    assert enums["hwr.v1.StatusCode"].cases == list(range(10))
    assert len(proto_comments(proto.fd)) >= 30


def test_name_map_bytecode() -> None:
    literal = r"\0\u{3}protocol_version\0\u{3}request_id\0\u{2}\u{8}recognize\0\u{5}p\0pJson\0\u{1}health\0"
    assert name_map(swift_string(literal)) == {1: "protocol_version", 2: "request_id", 10: "recognize",
                                               11: "p", 12: "health"}
    assert name_map(swift_string(r"\0\u{2}\0OK\0\u{1}BAD\0")) == {0: "OK", 1: "BAD"}


def test_a_changed_proto_is_caught(tmp_path: Path) -> None:
    """Renumbered, renamed, retyped and added fields, a new enum value and new wording all show."""
    text = PROTO.read_text()
    edits = [("uint32 top_k = 1;", "uint32 top_k = 9;"), ("string request_id = 2;", "string request_id_v2 = 2;"),
             ("float confidence = 4;", "double confidence = 4;"), ("bool serving = 1;", "bool serving = 1;\n  bool ready = 2;"),
             ("DEADLINE_EXCEEDED = 9;", "DEADLINE_EXCEEDED = 9;\n  DRAINING = 10;"),
             ("// Must be 1.", "// Must be 1 (or 2)."), ("repeated string lexicon = 3;", "string lexicon = 3;")]
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    changed = tmp_path / "hwr.proto"
    changed.write_text(text)
    found = "\n".join(differences(descriptor(changed, tmp_path), SWIFT.read_text()))
    for expected in ["hwr.v1.DecodingOptions: number 1 is None", "number 9 is 'top_k'", "'request_id_v2'",
                     "field 4 is ('singular', 'Double')", "hwr.v1.HealthReply: number 2 is 'ready'",
                     "number 10 is 'DRAINING'", "Must be 1 (or 2).", "field 3 is ('singular', 'String')"]:
        assert expected in found, f"{expected!r} not reported; found:\n{found}"
