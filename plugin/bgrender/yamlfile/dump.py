"""Manifests → text. Keys are sorted and nothing varies between runs, so the same input
gives byte-identical output (Argo CD diffs and caches on it).

Every string must read back as that same string in every program that reads the stream:
Argo CD and kubectl (Go, sigs.k8s.io/yaml over yaml.v2: YAML 1.1 rules), yaml.v3 and other
YAML 1.2 readers (core schema), and PyYAML. PyYAML's dumper quotes only what its own YAML 1.1
resolver would misread, so a short git SHA like `12345e6` went out plain and Go read the
float 12345000000. `plain_is_string` is written from the resolvers' rules, as one superset:
a string any of them could read as something else is quoted.
"""

from __future__ import annotations

import os

from bgrender.digest import canonical_json
from bgrender.errors import InvalidInput, Problem
from bgrender.yamlfile.pyyaml import yaml  # never `import yaml` directly: pyyaml.py says why

try:
    from yaml import CSafeDumper as _SafeDumper
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeDumper as _SafeDumper  # type: ignore[assignment]  # another class, the same interface
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


from bgrender import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

    # CommonScalarsFirst is mixed into PyYAML's resolvers: typed as one, so super().resolve checks
    from yaml.resolver import BaseResolver as _ResolverMixin
else:
    _ResolverMixin = object  # at run time a plain mixin, its resolve found through the MRO

# Whole plain scalars that are not strings, compared in lowercase (a superset of each list):
# YAML 1.1 booleans y/yes/n/no/true/false/on/off (PyYAML leaves out y and n, Go's yaml.v2 does
# not), nulls (the empty scalar too), Go's and YAML 1.2's infinities and NaN, the merge key
# `<<`, YAML 1.1's `=` (the "value" type; PyYAML resolves it) and its `!`, `&` and `*` (the
# "yaml" type, which PyYAML resolves too; as indicators they are quoted anyway).
_KEYWORDS = frozenset({"y", "yes", "n", "no", "true", "false", "on", "off", "", "~", "null",
                       ".inf", "+.inf", "-.inf", ".nan", "<<", "=", "!", "&", "*"})
_LONGEST_KEYWORD = max(map(len, _KEYWORDS))
_NUMBER_START = frozenset("+-.0123456789")
# Numbers, once "_" is removed (YAML 1.1 allows it between digits, and Go's yaml.v2 and v3
# delete every "_" before they try a number). Not re.VERBOSE: it compiles a third faster.
_NUMBER = (
    r"[-+]?("
    # hex: YAML 1.1 and 1.2, Go; octal 0o17: YAML 1.2, Go (its ParseInt takes the prefix);
    # binary: YAML 1.1, Go. With no digit too: PyYAML reads `0x_` as an int (and fails to build it).
    r"0[xX][0-9a-fA-F]*"
    r"|0[oO][0-7]*"
    r"|0[bB][01]*"
    # decimal and old-style octal (0777) ints; floats with or without a dot, exponent with or
    # without a sign (Go: `12345e6`, `01234589`); YAML 1.1's base 60 (`1:00`, `1:30.5`);
    # and YAML 1.1's spec float, whose fraction may hold more dots (`1.2.3`)
    r"|[0-9]+(:[0-9]+)*(\.[0-9.]*)?([eE][-+]?[0-9]+)?"
    r"|\.[0-9.]*([eE][-+]?[0-9]+)?"  # `.5`, `.5e3`, and the spec's `.`
    r")")
# Outside the prefixes 0x, 0o and 0b, a number holds only these characters.
_DECIMAL_CHARS = frozenset("0123456789.:eE+-")
_DIGITS_AND_DOTS = frozenset("0123456789.")
# YAML 1.1 timestamps as PyYAML reads them (2024-01-02, ... 10:00:00Z) and as Go's yaml.v2
# and v3 do (one-digit month and day too): a date, alone or followed by a time.
_TIMESTAMP = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt \t].*)?"


def plain_is_string(text: str) -> bool:
    """Whether `text`, written as a plain (unquoted) scalar, reads back as the string `text`
    under YAML 1.1 (PyYAML, Go's yaml.v2) and YAML 1.2 (core schema, Go's yaml.v3) alike.
    Only the type is decided here; the emitter still quotes what YAML's syntax needs."""
    if len(text) <= _LONGEST_KEYWORD and text.lower() in _KEYWORDS:
        return False
    if text[:1] not in _NUMBER_START:  # each reader decides "number or date" by the first character
        return True
    if _is_decimal_int(text):  # a sync wave, a port
        return False
    # Most such scalars ("128Mi", a short git SHA) are ruled out by their characters, so the
    # two patterns compile (in re's cache) only when a scalar needs them.
    digits = text.replace("_", "")
    unsigned = digits.lstrip("+-")
    if (unsigned[:2].lower() in ("0x", "0o", "0b") or _DECIMAL_CHARS.issuperset(unsigned)) \
            and is_number(digits):
        return False
    return not (text[4:5] == "-" and _fullmatch(_TIMESTAMP, text))


def is_number(digits: str) -> bool:
    """Whether `digits` (a plain scalar without "_") matches _NUMBER. Whole numbers and versions
    like `1.4.2` (YAML 1.1's spec float) are decided without re (a property test holds this
    equal to the pattern); the rarer shapes (exponents, base 60, hex) by the pattern."""
    unsigned = digits[1:] if digits[:1] in ("+", "-") else digits
    whole, _, fraction = unsigned.partition(".")
    if whole.isdigit() and whole.isascii() and _DIGITS_AND_DOTS.issuperset(fraction):
        return True
    return _fullmatch(_NUMBER, digits)


def _fullmatch(pattern: str, text: str) -> bool:
    import re  # only for the few scalars that look like numbers or dates (pyyaml.py: `re` costs a tenth of a render)

    return re.fullmatch(pattern, text, re.DOTALL) is not None


# YAML's standard tags (yamldoc.py and yamledit.py use them too).
TAG = "tag:yaml.org,2002:"
STR_TAG, INT_TAG, BOOL_TAG, NULL_TAG = f"{TAG}str", f"{TAG}int", f"{TAG}bool", f"{TAG}null"
# The booleans and nulls bgrender writes, and the empty value, as every reader takes them.
_COMMON_KEYWORDS = {"true": BOOL_TAG, "false": BOOL_TAG, "null": NULL_TAG, "": NULL_TAG, "~": NULL_TAG}


def plain_tag(text: str) -> str | None:
    """The type PyYAML's YAML 1.1 resolver gives the plain scalar `text`, for the common
    scalars of a manifest (strings, decimal ints, true, false, null), decided without its
    regexes (a test holds them equal); None for the others."""
    if text in _COMMON_KEYWORDS:
        return _COMMON_KEYWORDS[text]
    if _is_decimal_int(text):
        return INT_TAG
    return STR_TAG if plain_is_string(text) else None


def _is_decimal_int(text: str) -> bool:
    digits = text[1:] if text[:1] in ("-", "+") else text
    return digits.isdigit() and digits.isascii() and (digits[0] != "0" or digits == "0")


class CommonScalarsFirst(_ResolverMixin):
    """For PyYAML's loaders and dumpers: the plain scalars `plain_tag` knows skip the
    resolver's regexes; only the others go through them. pyyaml.py compiles each of those
    regexes when it is first used, so a render usually compiles none."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = plain_tag(value)
            if tag is not None:
                return tag
        return super().resolve(kind, value, implicit)


class Loader(CommonScalarsFirst, _SafeLoader):
    """How bgrender reads YAML: with libyaml, the common plain scalars typed without regexes."""


class _Dumper(CommonScalarsFirst, _SafeDumper):
    """Multi-line strings (the smoke test script) as literal blocks, readable in a review;
    never an anchor or alias, even where two objects share a value; strings another reader could
    take for a number, boolean or null single-quoted."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: _Dumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None if plain_is_string(value) else "'"
    return dumper.represent_scalar(STR_TAG, value, style=style)


_Dumper.add_representer(str, _represent_str)


def plain_reads_back(value: str, *, flow: bool) -> bool:
    """True when `value` may be written unquoted into a file people edit (bluegreen.yaml): every
    reader takes it for this string (plain_is_string), and YAML's syntax reads it back whole (no
    indicator, no ` #` comment, no surrounding space)."""
    if not value or value != value.strip() or any(c in value for c in "\r\n\t") or not plain_is_string(value):
        return False
    sample = f"{{k: {value}}}" if flow else f"k: {value}\n"
    try:  # read as bgrender reads its files (PyYAML's Python reader would compile a 5 ms regex)
        return yaml.load(sample, Loader=Loader) == {"k": value}
    except yaml.YAMLError:
        return False


def dump_yaml(objects: list[dict[str, Any]]) -> str:
    """The YAML stream of `objects`: written directly for the shapes a render emits, byte for
    byte what PyYAML writes (a property test holds them equal); by PyYAML for anything else."""
    try:
        return "".join(_stream(objects))
    except _Unusual:
        return pyyaml_stream(objects)


def pyyaml_stream(objects: list[dict[str, Any]]) -> str:
    return yaml.dump_all(objects, Dumper=_Dumper, sort_keys=True, default_flow_style=False,
                         allow_unicode=True, explicit_start=True, width=1 << 16)


# --- the direct writer ------------------------------------------------------------------------
# PyYAML (libyaml's emitter) writes block style: a mapping's keys sorted, at one column; a
# nested mapping two columns in; a sequence in a mapping at the mapping's own column ("- "
# items); an item's first key or item on the dash's line; empty containers as {} and [].
# The writer knows the scalars of manifests: ints, booleans, null, and ASCII strings without
# tabs or control characters; those with line breaks as literal blocks ("|", "|-").
# Anything else (floats, non-ASCII text, long or odd keys, text libyaml would fold or
# double-quote) raises _Unusual, and PyYAML writes the whole stream.

class _Unusual(Exception):
    """A value the direct writer leaves to PyYAML."""


# A plain scalar may not start with these (YAML's indicators); "-", "?" and ":" only when
# followed by a space or nothing.
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
# libyaml folds a line at a space past its width (65536 columns): longer scalars go to PyYAML.
_LONGEST_SCALAR = 1 << 14
# libyaml writes a key longer than this as a complex key ("? key").
_LONGEST_KEY = 128


def _stream(objects: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for data in objects:
        if type(data) is not dict or not data:
            raise _Unusual
        out.append("---\n")
        _mapping(data, 0, out)
    return out


def _mapping(data: dict[Any, Any], column: int, out: list[str]) -> None:
    """Its first key where `out` ends (a line's start, or after a dash), the others at `column`."""
    indent = ""
    for key in sorted(data) if all(type(key) is str for key in data) else _unusual():
        if len(key) > _LONGEST_KEY:
            raise _Unusual
        out += (indent, _one_line(key), ":")
        indent = " " * column
        _node(data[key], column, column + 2, out)


def _sequence(items: list[Any], column: int, out: list[str]) -> None:
    """Its first dash where `out` ends, the others at `column`."""
    indent = ""
    for item in items:
        out += (indent, "-")
        indent = " " * column
        _node(item, column + 2, column + 2, out)


def _node(value: Any, list_column: int, map_column: int, out: list[str]) -> None:
    """A value after its key's colon or its item's dash: a scalar on that line, a container
    below it (on the dash's line for an item)."""
    kind = type(value)
    if kind is dict and value:
        out.append(" " if list_column == map_column else "\n" + " " * map_column)
        _mapping(value, map_column, out)
    elif kind is list and value:
        out.append(" " if list_column == map_column else "\n" + " " * list_column)
        _sequence(value, list_column, out)
    else:
        out += (" ", _scalar(value, map_column), "\n")


def _scalar(value: Any, column: int) -> str:
    kind = type(value)
    if kind is str:
        return _one_line(value) if "\n" not in value else _literal(value, column)
    if kind is int:
        return str(value)
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    if kind is dict:
        return "{}"
    if kind is list:
        return "[]"
    raise _Unusual


def _one_line(text: str) -> str:
    """A string plain when every reader takes it for that string and YAML's syntax allows it,
    else single-quoted (as _represent_str asks and libyaml decides)."""
    if len(text) > _LONGEST_SCALAR or not (text.isascii() and text.isprintable()):
        raise _Unusual
    if plain_is_string(text) and _plain_syntax(text):
        return text
    return "'" + text.replace("'", "''") + "'"


def _plain_syntax(text: str) -> bool:
    first = text[0]
    if first in _INDICATORS and (first not in "-?:" or text[1:2] in ("", " ")):
        return False
    return not (first == " " or text[-1] in " :" or ": " in text or " #" in text or text[:3] in ("---", "..."))


def _literal(text: str, column: int) -> str:
    """A multi-line string as a literal block, its lines at `column`; "|-" without a final
    line break. libyaml adds hints for a first line starting with a space or break and a
    text ending in two breaks, and double-quotes text with trailing spaces: those go to PyYAML."""
    if len(text) > _LONGEST_SCALAR or not text.isascii() or text[0] in " \n" or text.endswith(("\n\n", " ")) \
            or " \n" in text or not text.replace("\n", "").isprintable():
        raise _Unusual
    indent = " " * column
    lines = text.split("\n")
    chomp = "|" if lines[-1] == "" else "|-"
    if chomp == "|":
        lines.pop()
    return chomp + "".join("\n" + indent + line if line else "\n" for line in lines)


def _unusual() -> list[str]:
    raise _Unusual


def dump_document(data: dict[str, Any]) -> str:
    """One document for a file bgrender writes (the lock): keys in the order `data` gives them."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=1 << 16)


def sorted_keys(data: Any) -> Any:
    """`data` with the keys of every mapping in it sorted, as dump_yaml writes them."""
    if isinstance(data, dict):
        return {k: sorted_keys(data[k]) for k in sorted(data)}
    if isinstance(data, list):
        return [sorted_keys(v) for v in data]
    return data


def dump_json_list(objects: list[dict[str, Any]]) -> str:
    """The objects as one Kubernetes `List` on one line, keys sorted: the shape `kubectl get -o
    json` gives several objects, and one Argo CD reads from a plugin (a JSON object on stdout,
    whose items it flattens)."""
    return canonical_json({"apiVersion": "v1", "items": objects, "kind": "List"}) + "\n"


DUMPERS = {"yaml": dump_yaml, "json": dump_json_list}
# A blue/green app renders to ~5-20 KiB. Inputs are bounded (1 MiB files, 4 MiB of expanded
# text), but aliases can still make each color's copy large; 4 MiB is 200 times any real app
# and far below what Argo CD accepts (~100 MiB), so its cache never holds a runaway render.
MAX_OUTPUT_BYTES = 4 * 1024 * 1024


def dump_output(objects: list[dict[str, Any]], output: str, intent_path: str) -> str:
    """A render's output in the `output` format of DUMPERS; InvalidInput past MAX_OUTPUT_BYTES."""
    text = DUMPERS[output](objects)
    size = len(text.encode("utf-8"))
    if size > MAX_OUTPUT_BYTES:
        message = (f"the rendered manifests would be {size / 2**20:.1f} MiB, more than the "
                   f"{MAX_OUTPUT_BYTES // 2**20} MiB limit; is a value repeated through YAML aliases?")
        raise InvalidInput([Problem(os.path.normpath(intent_path), 0, 0, "", message)])
    return text
