"""Minimal text edits of YAML scalars by path: every byte outside the edited span stays.

`release.py` decides which scalars change; `release_cli.py` reads and writes the file. This
module turns (text, path, value) into new text. It finds the exact character span of a value
from the marks of PyYAML's composed nodes and replaces only that span, or inserts the missing
lines indented like their siblings. Shapes it cannot edit without reformatting (anchors,
aliases, merge keys, tags, block scalars, a key missing from a non-empty flow mapping) are
refused with their position, never rewritten.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bgrender.errors import InvalidInput, Problem, RefusedEdit

NULL_TAG = "tag:yaml.org,2002:null"
STR_TAG = "tag:yaml.org,2002:str"
DEFAULT_INDENT_STEP = 2


class _MarkedLoader(yaml.SafeLoader):
    """The pure-Python composer, whose mark indexes count characters of the str it was given.

    (libyaml's marks are not guaranteed to be character offsets, so it is not used here.)
    It also notes every node an anchor names, so edits never change a value shared elsewhere.
    """

    def __init__(self, text: str):
        super().__init__(text)
        self.anchored: dict[int, yaml.Mark] = {}

    def compose_node(self, parent, index):
        event = self.peek_event()
        node = super().compose_node(parent, index)
        if getattr(event, "anchor", None) is not None:  # an anchor, or an alias naming one
            self.anchored.setdefault(id(node), event.start_mark)
        return node


@dataclass(frozen=True)
class Document:
    """A parsed intent file: its text, its root mapping and where anchors are."""

    file: str
    text: str
    root: MappingNode
    anchored: dict[int, yaml.Mark]

    def problem(self, mark: yaml.Mark, path: Sequence[str], message: str) -> Problem:
        return Problem(self.file, mark.line + 1, mark.column + 1, ".".join(path), message)

    def refuse(self, mark: yaml.Mark, path: Sequence[str], message: str) -> RefusedEdit:
        return RefusedEdit(f"{self.problem(mark, path, message)}; edit this by hand")


def parse(text: str, file: str) -> Document:
    """Compose `text`; raise InvalidInput (with a position) unless it is one YAML mapping."""
    try:
        root, anchored = _compose(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise InvalidInput([Problem(file, *where, "", f"syntax error: {err.problem}")]) from err
    except yaml.reader.ReaderError as err:  # an unprintable character; it has an offset only
        line = text.count("\n", 0, err.position) + 1
        column = err.position - (text.rfind("\n", 0, err.position) + 1) + 1
        message = f"character #x{err.character:04x} is not allowed in YAML"
        raise InvalidInput([Problem(file, line, column, "", message)]) from err
    except RecursionError as err:  # the composer recurses once per nesting level
        raise InvalidInput([Problem(file, 1, 1, "", "nesting too deep to edit")]) from err
    if not isinstance(root, MappingNode):
        raise InvalidInput([Problem(file, 1, 1, "", "the file must hold one YAML mapping")])
    return Document(file, text, root, anchored)


def _compose(text: str) -> tuple[Node | None, dict[int, yaml.Mark]]:
    loader = _MarkedLoader(text)
    try:
        return loader.get_single_node(), loader.anchored
    finally:
        loader.dispose()


def lookup(doc: Document, path: Sequence[str]) -> Node | None:
    """The node at `path`, or None when a key on the way is absent or null."""
    node: Node = doc.root
    for depth, key in enumerate(path):
        if not isinstance(node, MappingNode):
            return None
        entry = _entry(doc, node, key, path[:depth])
        if entry is None:
            return None
        node = entry[1]
    return None if is_null(node) else node


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == NULL_TAG


def set_scalar(
    text: str, path: Sequence[str], value: str, *, file: str, after: Sequence[str] = ()
) -> str:
    """Return `text` with the string at `path` set to `value`, every other byte kept.

    Missing mappings on the way are created. A key that has to be inserted goes right after
    the first of the sibling keys named in `after` that exists, else after the last sibling.
    """
    doc = parse(text, file)
    node: Node = doc.root
    node_key: yaml.Mark | None = None
    for depth, key in enumerate(path):
        assert isinstance(node, MappingNode)
        _refuse_anchored(doc, node, path[:depth], node_key)
        entry = _entry(doc, node, key, path[:depth])
        if entry is None:
            return _insert_entry(doc, node, path[:depth], path[depth:], value, after)
        key_node, child = entry
        if depth == len(path) - 1:
            return _replace_scalar(doc, node, key_node, child, path, value)
        if is_null(child):
            return _fill_null(doc, node, key_node, child, path[: depth + 1], path[depth + 1 :], value)
        if not isinstance(child, MappingNode):
            raise doc.refuse(child.start_mark, path[: depth + 1], "expected a mapping here")
        node, node_key = child, key_node.start_mark
    raise ValueError("empty path")


def _entry(
    doc: Document, mapping: MappingNode, key: str, here: Sequence[str]
) -> tuple[Node, Node] | None:
    """The (key, value) nodes of `key` in `mapping`; refuses merges and duplicates."""
    found = []
    for key_node, value_node in mapping.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            # A merged key may be the one we are asked to change; we cannot tell which.
            raise doc.refuse(key_node.start_mark, here, "merge keys (<<) cannot be edited safely")
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            found.append((key_node, value_node))
    if len(found) > 1:
        second = found[1][0].start_mark
        raise InvalidInput([doc.problem(second, [*here, key], f'duplicate key "{key}"')])
    return found[0] if found else None


def _refuse_anchored(doc: Document, node: Node, path: Sequence[str], where: yaml.Mark | None = None) -> None:
    """Refuse to change a value an anchor names: an alias elsewhere may share it."""
    anchor = doc.anchored.get(id(node))
    if anchor is not None:
        message = (f"its value is shared through the YAML anchor at line {anchor.line + 1}, column "
                   f"{anchor.column + 1}; changing it here could change it elsewhere")
        raise doc.refuse(where or anchor, path, message)


# --- replacing a scalar -------------------------------------------------------------------


def _replace_scalar(
    doc: Document, parent: MappingNode, key_node: Node, node: Node, path: Sequence[str], value: str
) -> str:
    if not isinstance(node, ScalarNode):
        raise doc.refuse(node.start_mark, path, "expected a single value, found a mapping or list")
    _refuse_anchored(doc, node, path, key_node.start_mark)
    start, end = node.start_mark.index, node.end_mark.index
    if doc.text[start:end].startswith("!"):
        raise doc.refuse(node.start_mark, path, "values with an explicit YAML tag are not edited")
    if node.style in ("|", ">"):
        raise doc.refuse(node.start_mark, path, "block scalars (| or >) are not edited")
    if node.tag == STR_TAG and node.value == value:
        return doc.text
    new = format_scalar(value, node.style, flow=bool(parent.flow_style))
    if start == end:  # an empty value right after its colon: `version:`
        new = " " + new
    return doc.text[:start] + new + doc.text[end:]


def format_scalar(value: str, style: str | None, *, flow: bool) -> str:
    """`value` as a YAML string scalar, in the old quoting style when that style can hold it."""
    if style == "'" and value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    if style == '"':
        return _double_quoted(value)
    if _reads_back_as_plain(value, flow=flow):
        return value
    return _double_quoted(value)


def _double_quoted(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON escapes are valid YAML escapes


# Numbers in the YAML 1.2 core schema that PyYAML (YAML 1.1) reads as strings, e.g. `1e3`.
# Other tools (yq, Go's yaml.v3) would read them as numbers, and short git SHAs can look
# like them (`4e12345`), so such values are quoted too.
_YAML12_NUMBER = re.compile(
    r"[-+]?([0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
    r"|\.(inf|Inf|INF)|\.(nan|NaN|NAN))"
)


def _reads_back_as_plain(value: str, *, flow: bool) -> bool:
    """True when YAML reads `value`, written unquoted, back as the same string.

    This rules out numbers, dates, booleans, nulls, indicators and ` #` comments alike.
    """
    if not value or value != value.strip() or any(c in value for c in "\r\n\t"):
        return False
    if _YAML12_NUMBER.fullmatch(value):
        return False
    sample = f"{{k: {value}}}" if flow else f"k: {value}\n"
    try:
        return yaml.safe_load(sample) == {"k": value}
    except yaml.YAMLError:
        return False


# --- inserting missing keys ---------------------------------------------------------------


def _insert_entry(
    doc: Document,
    mapping: MappingNode,
    here: Sequence[str],
    rest: Sequence[str],
    value: str,
    after: Sequence[str],
) -> str:
    if mapping.flow_style:
        return _fill_empty_flow_mapping(doc, mapping, here, rest, value)
    indent = mapping.value[0][0].start_mark.column  # a block mapping always has an entry
    step = _indent_step(doc, mapping)
    key_node, value_node = _entry_to_follow(doc, mapping, here, after)
    lines = _block_lines(rest, value, indent, step)
    end = _content_end(doc.text, key_node, value_node)
    return _insert_lines_after(doc.text, end, lines, indent=indent)


def _entry_to_follow(
    doc: Document, mapping: MappingNode, here: Sequence[str], after: Sequence[str]
) -> tuple[Node, Node]:
    for key in after:
        entry = _entry(doc, mapping, key, here)
        if entry is not None:
            return entry
    return mapping.value[-1]


def _fill_empty_flow_mapping(
    doc: Document, mapping: MappingNode, here: Sequence[str], rest: Sequence[str], value: str
) -> str:
    start, end = mapping.start_mark.index, mapping.end_mark.index
    if mapping.value or doc.text[start + 1 : end - 1].strip():
        raise doc.refuse(mapping.start_mark, here,
                         f'cannot add "{rest[0]}" to this flow mapping ({{...}}) without rewriting it')
    return doc.text[:start] + _flow_text(rest, value) + doc.text[end:]


def _fill_null(
    doc: Document,
    parent: MappingNode,
    key_node: Node,
    null: ScalarNode,
    here: Sequence[str],
    rest: Sequence[str],
    value: str,
) -> str:
    """Turn `key:` or `key: ~` into a mapping holding `rest`, keeping a trailing comment."""
    _refuse_anchored(doc, null, here, key_node.start_mark)
    start, end = null.start_mark.index, null.end_mark.index
    if doc.text[start:end].startswith("!"):
        raise doc.refuse(null.start_mark, here, "values with an explicit YAML tag are not edited")
    if parent.flow_style:
        if start == end:
            raise doc.refuse(key_node.start_mark, here, "an empty value in a flow mapping cannot be filled safely")
        return doc.text[:start] + _flow_text(rest, value) + doc.text[end:]
    if null.start_mark.line != key_node.start_mark.line:
        raise doc.refuse(null.start_mark, here, "a null on its own line cannot be replaced safely")
    indent = key_node.start_mark.column + _indent_step(doc, parent)
    lines = _block_lines(rest, value, indent, _indent_step(doc, parent))
    inserted = _insert_lines_after(doc.text, end, lines, indent=indent)
    # Drop the null itself (`~`, `null`) and the blanks before it; the insertion is later in
    # the text, so these indexes are still valid.
    cut = start
    while cut > 0 and doc.text[cut - 1] in " \t":
        cut -= 1
    return inserted[:cut] + inserted[end:]


def _flow_text(rest: Sequence[str], value: str) -> str:
    inner = format_scalar(value, None, flow=True)
    for key in reversed(rest):
        inner = f"{{{key}: {inner}}}"
    return inner


def _block_lines(rest: Sequence[str], value: str, indent: int, step: int) -> list[str]:
    lines = [" " * (indent + depth * step) + f"{key}:" for depth, key in enumerate(rest)]
    lines[-1] += " " + format_scalar(value, None, flow=False)
    return lines


def _indent_step(doc: Document, mapping: MappingNode) -> int:
    """How far this file indents a nested block mapping: siblings first, then anywhere."""
    for _, value in mapping.value:
        step = _nested_step(mapping, value)
        if step:
            return step
    return _first_nested_step(doc.root) or DEFAULT_INDENT_STEP


def _first_nested_step(mapping: MappingNode) -> int | None:
    for _, value in mapping.value:
        step = _nested_step(mapping, value)
        if step:
            return step
        if _is_block_mapping(value):
            deeper = _first_nested_step(value)
            if deeper:
                return deeper
    return None


def _nested_step(parent: MappingNode, child: Node) -> int | None:
    if not (_is_block_mapping(parent) and _is_block_mapping(child)):
        return None
    step = child.value[0][0].start_mark.column - parent.value[0][0].start_mark.column
    return step if step > 0 else None


def _is_block_mapping(node: Node) -> bool:
    return isinstance(node, MappingNode) and not node.flow_style and bool(node.value)


def _content_end(text: str, key_node: Node, value_node: Node) -> int:
    """Index just past the last character of an entry's value (comments excluded).

    A block collection's end mark lies after the comments and blank lines that follow it,
    which may belong to the next key; so descend to its last leaf instead.
    """
    if isinstance(value_node, MappingNode) and not value_node.flow_style and value_node.value:
        return _content_end(text, *value_node.value[-1])
    if isinstance(value_node, SequenceNode) and not value_node.flow_style and value_node.value:
        return _content_end(text, value_node.value[-1], value_node.value[-1])
    end = value_node.end_mark.index
    if isinstance(value_node, ScalarNode) and value_node.style in ("|", ">"):
        # A block scalar's end mark lies after the blank lines that end it.
        while end > value_node.start_mark.index and text[end - 1] in " \t\r\n":
            end -= 1
    return max(key_node.end_mark.index, end)


def _insert_lines_after(text: str, position: int, lines: list[str], *, indent: int) -> str:
    """Insert whole `lines` after the line holding `position`, in that line's line ending.

    Comment lines below it that are indented deeper than `indent` belong to the entry above,
    so the new lines go after them.
    """
    at, newline = _next_line_start(text, position)
    if at is None:  # the last line has no line break: give it one, and the new lines none
        return text + newline + newline.join(lines)
    while True:
        following, following_newline = _next_line_start(text, at)
        if following is None or not _is_deeper_comment(text[at:following], indent):
            break
        at, newline = following, following_newline
    return text[:at] + newline.join(lines) + newline + text[at:]


def _next_line_start(text: str, position: int) -> tuple[int | None, str]:
    """Where the line after `position` starts (None at the end of the text), and the break."""
    breaks = [i for i in (text.find("\r", position), text.find("\n", position)) if i >= 0]
    if not breaks:
        return None, "\r\n" if "\r\n" in text else "\n"
    at = min(breaks)
    newline = "\r\n" if text.startswith("\r\n", at) else text[at]
    return at + len(newline), newline


def _is_deeper_comment(line: str, indent: int) -> bool:
    body = line.lstrip(" ")
    return body.startswith("#") and len(line) - len(body) > indent
