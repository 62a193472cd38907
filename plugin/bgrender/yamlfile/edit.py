"""Minimal text edits of a yamldoc.Document: set one scalar, or remove one entry, every byte
outside its span kept.

Called by the release, promote and rollback use case. It finds
the exact character span of a value from the marks of the composed nodes and replaces only
that span, or inserts the missing lines indented like their siblings. Shapes it cannot edit
without reformatting (anchors and aliases, tags, block scalars, a key missing from a
non-empty flow mapping) are refused with their position, never rewritten.
"""

from __future__ import annotations

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bgrender import TYPE_CHECKING
from bgrender.errors import InvalidInput, Problem, RefusedEdit
from bgrender.yamlfile.document import Document, Path, dotted
from bgrender.yamlfile.dump import INT_TAG, NULL_TAG, STR_TAG

if TYPE_CHECKING:
    from typing import TypeGuard

DEFAULT_INDENT_STEP = 2


def set_scalar(doc: Document, path: Path, value: str | int, after: tuple[str, ...] = ()) -> str:
    """The document's text with the string (or integer) at `path` set to `value`, every other byte kept.

    Missing mappings on the way are created; a key that must be inserted goes after the
    first sibling named in `after` that exists, else after the last sibling. Shapes that
    cannot be edited without reformatting are refused (RefusedEdit) with their position.
    """
    if not isinstance(doc.root, MappingNode):
        raise InvalidInput([Problem(doc.file, 1, 1, "", "the file must hold one YAML mapping")])
    node: Node = doc.root
    node_key: yaml.Mark | None = None
    for depth, key in enumerate(path):
        assert isinstance(node, MappingNode)
        _refuse_anchored(doc, node, path[:depth], node_key)
        entry = _entry(node, key)
        if entry is None:
            return _insert_entry(doc, node, path[:depth], path[depth:], value, after)
        key_node, child = entry
        if depth == len(path) - 1:
            return _replace_scalar(doc, node, key_node, child, path, value)
        if _is_null(child):
            return _fill_null(doc, node, key_node, child, path[: depth + 1], path[depth + 1:], value)
        if not isinstance(child, MappingNode):
            raise _refuse(doc, child.start_mark, path[: depth + 1], "expected a mapping here")
        node, node_key = child, key_node.start_mark
    raise ValueError("empty path")


def _refuse(doc: Document, mark: yaml.Mark, path: Path, message: str) -> RefusedEdit:
    problem = Problem(doc.file, mark.line + 1, mark.column + 1, dotted(path), message)
    return RefusedEdit(f"{problem}; edit this by hand")


def _entry(mapping: MappingNode, key: str) -> tuple[Node, Node] | None:
    """The (key, value) nodes of `key` (the loader has refused duplicate and merge keys)."""
    return next(((k, v) for k, v in mapping.value if isinstance(k, ScalarNode) and k.value == key), None)


def _is_null(node: Node) -> TypeGuard[ScalarNode]:
    return isinstance(node, ScalarNode) and node.tag == NULL_TAG


def _refuse_anchored(doc: Document, node: Node, path: Path, where: yaml.Mark | None = None) -> None:
    """Refuse to change a value an anchor names: an alias elsewhere may share it.

    The composer gives an anchored node (and every alias of it, which is the same node) the
    start mark of its `&anchor`, so the text there tells."""
    anchor = node.start_mark
    if doc.text.startswith("&", anchor.index):
        message = (f"its value is shared through the YAML anchor at line {anchor.line + 1}, column "
                   f"{anchor.column + 1}; changing it here could change it elsewhere")
        raise _refuse(doc, where or anchor, path, message)


def _refuse_tagged(doc: Document, node: Node, path: Path) -> None:
    if doc.text.startswith("!", node.start_mark.index):
        raise _refuse(doc, node.start_mark, path, "values with an explicit YAML tag are not edited")


# --- replacing a scalar -------------------------------------------------------------------


def _replace_scalar(doc: Document, parent: MappingNode, key_node: Node, node: Node, path: Path,
                    value: str | int) -> str:
    if not isinstance(node, ScalarNode):
        raise _refuse(doc, node.start_mark, path, "expected a single value, found a mapping or list")
    _refuse_anchored(doc, node, path, key_node.start_mark)
    _refuse_tagged(doc, node, path)
    if node.style in ("|", ">"):
        raise _refuse(doc, node.start_mark, path, "block scalars (| or >) are not edited")
    if (node.tag, node.value) == ((INT_TAG, str(value)) if isinstance(value, int) else (STR_TAG, value)):
        return doc.text
    start, end = node.start_mark.index, node.end_mark.index
    new = format_scalar(value, node.style, flow=bool(parent.flow_style))
    if start == end:  # an empty value right after its colon: `version:`
        new = " " + new
    return doc.text[:start] + new + doc.text[end:]


def format_scalar(value: str | int, style: str | None, *, flow: bool) -> str:
    """`value` as a YAML string scalar, in the old quoting style when that style can hold it;
    an integer as a plain one."""
    from bgrender.yamlfile.dump import plain_reads_back  # the dumper's rule: one owner of "may this go unquoted"

    if isinstance(value, int):
        return str(value)
    if style == "'" and value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    if style != '"' and plain_reads_back(value, flow=flow):
        return value
    import json

    return json.dumps(value, ensure_ascii=False)  # JSON escapes are valid YAML escapes


# --- inserting missing keys ---------------------------------------------------------------


def _insert_entry(doc: Document, mapping: MappingNode, here: Path, rest: Path, value: str | int,
                  after: tuple[str, ...]) -> str:
    if mapping.flow_style:
        return _fill_empty_flow_mapping(doc, mapping, here, rest, value)
    indent = mapping.value[0][0].start_mark.column  # a block mapping always has an entry
    step = _indent_step(doc, mapping)
    key_node, value_node = next((e for e in map(lambda k: _entry(mapping, k), after) if e), mapping.value[-1])
    lines = _block_lines(rest, value, indent, step)
    end = _content_end(doc.text, key_node, value_node)
    return _insert_lines_after(doc.text, end, lines, indent=indent)


def _fill_empty_flow_mapping(doc: Document, mapping: MappingNode, here: Path, rest: Path, value: str | int) -> str:
    start, end = mapping.start_mark.index, mapping.end_mark.index
    if mapping.value or doc.text[start + 1: end - 1].strip():
        raise _refuse(doc, mapping.start_mark, here,
                      f'cannot add "{rest[0]}" to this flow mapping ({{...}}) without rewriting it')
    return doc.text[:start] + _flow_text(rest, value) + doc.text[end:]


def _fill_null(doc: Document, parent: MappingNode, key_node: Node, null: ScalarNode, here: Path, rest: Path,
               value: str | int) -> str:
    """Turn `key:` or `key: ~` into a mapping holding `rest`, keeping a trailing comment."""
    _refuse_anchored(doc, null, here, key_node.start_mark)
    _refuse_tagged(doc, null, here)
    start, end = null.start_mark.index, null.end_mark.index
    if parent.flow_style:
        if start == end:
            raise _refuse(doc, key_node.start_mark, here, "an empty value in a flow mapping cannot be filled safely")
        return doc.text[:start] + _flow_text(rest, value) + doc.text[end:]
    if null.start_mark.line != key_node.start_mark.line:
        raise _refuse(doc, null.start_mark, here, "a null on its own line cannot be replaced safely")
    step = _indent_step(doc, parent)
    lines = _block_lines(rest, value, key_node.start_mark.column + step, step)
    inserted = _insert_lines_after(doc.text, end, lines, indent=key_node.start_mark.column + step)
    # Drop the null itself (`~`, `null`) and the blanks before it; the insertion is later in
    # the text, so these indexes are still valid.
    cut = start
    while cut > 0 and doc.text[cut - 1] in " \t":
        cut -= 1
    return inserted[:cut] + inserted[end:]


def _flow_text(rest: Path, value: str | int) -> str:
    inner = format_scalar(value, None, flow=True)
    for key in reversed(rest):
        inner = f"{{{key}: {inner}}}"
    return inner


def _block_lines(rest: Path, value: str | int, indent: int, step: int) -> list[str]:
    lines = [" " * (indent + depth * step) + f"{key}:" for depth, key in enumerate(rest)]
    lines[-1] += " " + format_scalar(value, None, flow=False)
    return lines


def _indent_step(doc: Document, mapping: MappingNode) -> int:
    """How far this file indents a nested block mapping: siblings first, then anywhere."""
    for _, value in mapping.value:
        step = _nested_step(mapping, value)
        if step:
            return step
    assert isinstance(doc.root, MappingNode)  # set_scalar edits no other document
    return _first_nested_step(doc.root) or DEFAULT_INDENT_STEP


def _first_nested_step(mapping: MappingNode) -> int | None:
    for _, value in mapping.value:
        step = _nested_step(mapping, value) or (_first_nested_step(value) if _is_block_mapping(value) else None)
        if step:
            return step
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


# --- removing an entry ----------------------------------------------------------------------


def remove_entry(doc: Document, path: Path) -> str:
    """The document's text without the entry at `path` (its key, its value, the comments inside
    it and on its lines), every other byte kept; the text as it is when there is no such entry.
    Only an entry of a block mapping that starts its own line is removed; anything else (a flow
    mapping, an anchored value, the mapping's only entry) is refused with its position."""
    if not isinstance(doc.root, MappingNode):
        raise InvalidInput([Problem(doc.file, 1, 1, "", "the file must hold one YAML mapping")])
    parent: Node = doc.root
    for key in path[:-1]:
        entry = _entry(parent, key) if isinstance(parent, MappingNode) else None
        if entry is None:
            return doc.text
        parent = entry[1]
    entry = _entry(parent, path[-1]) if isinstance(parent, MappingNode) else None
    if entry is None:
        return doc.text
    assert isinstance(parent, MappingNode)
    key_node, value_node = entry
    _refuse_anchored(doc, value_node, path, key_node.start_mark)
    line_start = doc.text.rfind("\n", 0, key_node.start_mark.index) + 1
    if parent.flow_style or len(parent.value) == 1 or doc.text[line_start:key_node.start_mark.index].strip():
        raise _refuse(doc, key_node.start_mark, path, "only an entry on lines of its own, in a block mapping with "
                                                      "other entries, is removed")
    end, _ = _next_line_start(doc.text, _content_end(doc.text, key_node, value_node))
    while end is not None:
        following, _ = _next_line_start(doc.text, end)
        if following is None or not _is_deeper_comment(doc.text[end:following].rstrip("\r\n"),
                                                       key_node.start_mark.column):
            break
        end = following
    return doc.text[:line_start] + ("" if end is None else doc.text[end:])
