"""redis-cli command lines: render arguments so `redis-cli < file` replays them, and parse back.

Rendering quotes every argument in double quotes and escapes `"`, `\\`, control characters and
every byte that is not text as `\\xHH`, the syntax redis-cli's argument splitter reads. Keys are
carried as str holding their exact bytes (UTF-8, with undecodable bytes as surrogate escapes), so
a key read from the server renders, parses and is sent back byte for byte. A command line writes
the printable non-ASCII characters of a str as themselves (`"café→1"`): redis-cli takes the
UTF-8 bytes inside quotes as they are, so the file reads as text and replays the same bytes;
bytes (a DUMP payload), undecodable bytes and invisible characters keep their escapes.
"""

from __future__ import annotations

import re

_SIMPLE = {ord('"'): '\\"', ord("\\"): "\\\\", ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


def to_bytes(value: str | bytes | int) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogateescape")


def from_bytes(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


_PLAIN = re.compile(r"[ !#-\[\]-~]*\Z")  # printable ASCII without `"` and `\\`


def _escaped(raw: bytes) -> str:
    out = []
    for b in raw:
        if b in _SIMPLE:
            out.append(_SIMPLE[b])
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append(f"\\x{b:02x}")
    return "".join(out)


def quote(value: str | bytes | int) -> str:
    """`value` in double quotes, every byte outside printable ASCII escaped: one spelling
    per value, which is how keys are named in a plan's details (`key_types`)."""
    if type(value) is int:
        return f'"{value}"'  # digits and a sign: nothing to escape
    if isinstance(value, str) and _PLAIN.match(value):
        return f'"{value}"'  # the common case, without the byte loop
    return '"' + _escaped(to_bytes(value)) + '"'


def quote_text(value: str | bytes | int) -> str:
    """`value` in double quotes as redis-cli reads it back, a str's printable non-ASCII
    characters written as themselves (UTF-8); bytes, undecodable bytes (surrogate escapes,
    which are not printable) and invisible or control characters escaped as by quote()."""
    if not isinstance(value, str) or _PLAIN.match(value) or value.isascii():
        return quote(value)
    out = []
    for ch in value:
        if ord(ch) > 0x7F and ch.isprintable():
            out.append(ch)
        else:
            out.append(_escaped(to_bytes(ch)))
    return '"' + "".join(out) + '"'


def render(*args: str | bytes | int, escape_text: bool = False) -> str:
    """One command line: the command word bare, every argument quoted, a str's printable
    UTF-8 as text (`escape_text`: escaped too, as lines were written before, byte by byte)."""
    head, *rest = args
    q = quote if escape_text else quote_text
    return " ".join([str(head), *(q(a) for a in rest)])


_UNESCAPE = {"n": b"\n", "r": b"\r", "t": b"\t", "b": b"\b", "a": b"\a"}


def split(line: str) -> list[bytes]:
    """The arguments of one rendered line (the subset of redis-cli syntax render() writes,
    plus bare words and single-quoted strings)."""
    args: list[bytes] = []
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i].isspace():
            i += 1
        if i >= n:
            break
        buf = bytearray()
        if line[i] == '"':
            i += 1
            while True:
                if i >= n:
                    raise ValueError(f"unbalanced quotes in {line!r}")
                c = line[i]
                if c == "\\" and i + 1 < n:
                    nxt = line[i + 1]
                    if nxt == "x" and i + 3 < n:
                        buf.append(int(line[i + 2 : i + 4], 16))
                        i += 4
                        continue
                    buf += _UNESCAPE.get(nxt, nxt.encode())
                    i += 2
                    continue
                if c == '"':
                    i += 1
                    break
                buf += c.encode("utf-8", "surrogateescape")
                i += 1
        elif line[i] == "'":
            i += 1
            while i < n and line[i] != "'":
                buf += line[i].encode("utf-8", "surrogateescape")
                i += 1
            i += 1
        else:
            while i < n and not line[i].isspace():
                buf += line[i].encode("utf-8", "surrogateescape")
                i += 1
        args.append(bytes(buf))
    return args
