"""Strict, safe YAML loading that remembers where every value came from.

PyYAML silently lets a duplicate key win and forgets positions once it builds Python
objects, so we compose nodes (C parser when present) and build plain values ourselves:
only the safe core types, no custom tags, no merge keys, duplicate keys reported, and
every value's line and column kept for error messages. Aliases are expanded, which is
why the node budget counts expanded nodes (a "billion laughs" file stays small on disk).
"""

from __future__ import annotations

import yaml

try:  # libyaml is 5-10x faster; fall back to the pure-Python parser where it is absent
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

from .errors import InvalidInput, Problem, quote

TYPE_CHECKING = False  # the typing module costs ~3 ms at startup; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

Path = tuple  # of str (mapping keys) and int (sequence indexes)

# Expanded nodes one document may hold. A bluegreen.yaml has ~50, a big Deployment ~2,000;
# 100,000 leaves room for any real manifest while an alias bomb stops within milliseconds.
MAX_NODES = 100_000
# Characters of scalar text once aliases are expanded: four times the largest file we read,
# so aliases may share text but not multiply one long string into gigabytes of output.
MAX_EXPANDED_CHARS = 4 * 1024 * 1024
# Nesting depth. Real manifests nest ~12 deep; Python's own recursion limit is 1,000.
MAX_DEPTH = 100

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null")}
_TIMESTAMP = f"{_TAG}timestamp"
_MAP, _SEQ, _MERGE = f"{_TAG}map", f"{_TAG}seq", f"{_TAG}merge"


MAX_KEY_SHOWN = 64  # a field path names user-written keys; keep each one short in messages


def dotted(path: Path) -> str:
    """("spec", "hosts", 0) -> "spec.hosts[0]"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        part = part if len(part) <= MAX_KEY_SHOWN else part[:MAX_KEY_SHOWN] + "..."
        out += f".{part}" if out else part
    return out


class Document:
    """One YAML document: its text, its composed nodes, the plain data built from them, and the
    position of every value and key.

    The one model of a YAML file in bgrender: reading with positions (bluegreen.yaml, the base,
    the lock) and minimal edits (`set_scalar`, for release, promote and rollback) use the same
    nodes, so a file is parsed once per version of its text.
    """

    def __init__(self, file: str, text: str, root: yaml.Node):
        self.file = file
        self.text = text  # without a byte-order mark: the composer's marks index this string
        self.root = root
        self.data: Any = None
        self.value_marks: dict[Path, tuple[int, int]] = {}
        self.key_marks: dict[Path, tuple[int, int]] = {}

    def position(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """Line and column of `path`, or of its nearest ancestor that has one."""
        marks = self.key_marks if key else self.value_marks
        while path:
            if path in marks:
                return marks[path]
            if not key and path in self.key_marks:
                return self.key_marks[path]
            path = path[:-1]
        return self.value_marks.get((), (1, 1))

    def problem(self, path: Path, message: str, *, key: bool = False) -> Problem:
        line, column = self.position(path, key=key)
        return Problem(self.file, line, column, dotted(path), message)

    def node(self, path: Path) -> yaml.Node | None:
        """The node at `path` (mapping keys only); None when a key on the way is missing or null."""
        node = self.root
        for key in path:
            if not isinstance(node, yaml.MappingNode):
                return None
            node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
            if node is None:
                return None
        return None if isinstance(node, yaml.ScalarNode) and node.tag == f"{_TAG}null" else node

    def set_scalar(self, path: Path, value: str, *, after: tuple[str, ...] = ()) -> str:
        """This document's text with the string at `path` set to `value`, every other byte kept.

        Missing mappings on the way are created; a key that must be inserted goes after the
        first sibling named in `after` that exists, else after the last sibling. Shapes that
        cannot be edited without reformatting are refused (RefusedEdit) with their position.
        """
        from .yamledit import set_scalar  # only the edit commands load the text splicing

        return set_scalar(self, path, value, after)


def load_document(text: str, file: str) -> Document:
    """Parse exactly one YAML document from `text` (no byte-order mark); raise InvalidInput on
    any problem."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as err:
        raise InvalidInput([_syntax_problem(err, text, file)]) from err
    except RecursionError as err:  # the composer recurses per nesting level
        raise InvalidInput([Problem(file, 1, 1, "", f"nesting is deeper than {MAX_DEPTH} levels")]) from err
    if root is None:
        raise InvalidInput([Problem(file, 1, 1, "", "the file holds no YAML document")])
    builder = _Builder(Document(file, text, root))
    builder.doc.data = builder.build(root, ())
    if builder.problems:
        raise InvalidInput(builder.problems)
    return builder.doc


def load_streams(sources: list[tuple[str, str]]) -> list[list[Document]]:
    """The documents of each (text, file) in `sources`, a file being a stream of documents with
    `---` between them; empty and null documents are left out. One node and text budget counts
    all the files together, so a hundred files of aliases cost no more than one. Raise
    InvalidInput with every file's problems."""
    builder = _Builder(Document("", "", yaml.ScalarNode(f"{_TAG}null", "")))
    problems: list[Problem] = []
    streams: list[list[Document]] = []
    for text, file in sources:
        try:
            roots = list(yaml.compose_all(text, Loader=_Loader))
        except yaml.YAMLError as err:
            roots = []
            problems.append(_syntax_problem(err, text, file))
        except RecursionError:
            roots = []
            problems.append(Problem(file, 1, 1, "", f"nesting is deeper than {MAX_DEPTH} levels"))
        streams.append([])
        for root in roots:
            if isinstance(root, yaml.ScalarNode) and root.tag == f"{_TAG}null":
                continue
            builder.doc = Document(file, text, root)
            builder.doc.data = builder.build(root, ())
            streams[-1].append(builder.doc)
    if problems or builder.problems:
        raise InvalidInput(problems + builder.problems)
    return streams


def _syntax_problem(err: yaml.YAMLError, text: str, file: str) -> Problem:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    if mark is not None:
        line, column = mark.line + 1, mark.column + 1
    elif getattr(err, "position", None) is not None:  # ReaderError: a bad character, no mark
        line, column = _line_column(text, err.position)  # type: ignore[attr-defined]
    else:
        line, column = 1, 1
    reason = getattr(err, "problem", None) or str(err).splitlines()[0]
    if "expected a single document" in str(err):
        reason = "holds more than one YAML document; put one object in this file"
    return Problem(file, line, column, "", f"invalid YAML: {reason}")


def _line_column(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _unsupported(node: yaml.Node) -> str:
    return f"unsupported tag {quote(node.tag)}; only plain YAML values are allowed"


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    """Turns composed nodes into plain values, collecting problems instead of stopping."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.problems: list[Problem] = []
        self.nodes = 0
        self.chars = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node, path: Path, message: str) -> None:
        line, column = _mark(node)
        self.problems.append(Problem(self.doc.file, line, column, dotted(path), message))

    def build(self, node: yaml.Node, path: Path, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise InvalidInput([self._too_big(node)])
        if depth > MAX_DEPTH:
            raise InvalidInput([Problem(self.doc.file, *_mark(node), dotted(path),
                                        f"nesting is deeper than {MAX_DEPTH} levels")])
        self.doc.value_marks.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self.build_mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                self.fail(node, path, _unsupported(node))
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        return self.build_scalar(node, path)

    def build_mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        if node.tag != _MAP:
            self.fail(node, path, _unsupported(node))
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                self.fail(key_node, path, "merge keys (<<) are not supported; write the keys out")
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != f"{_TAG}str":
                self.fail(key_node, path, "keys must be strings")
                continue
            key = key_node.value
            child = path + (key,)
            if key in out:
                line, column = self.doc.key_marks[child]
                self.fail(key_node, child, f'duplicate key {quote(key)} (first defined at {line}:{column})')
                continue
            self.doc.key_marks[child] = _mark(key_node)
            out[key] = self.build(value_node, child, depth + 1)
        return out

    def build_scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        self.chars += len(node.value)
        if self.chars > MAX_EXPANDED_CHARS:
            raise InvalidInput([Problem(self.doc.file, *_mark(node), dotted(path), "more than "
                                        f"{MAX_EXPANDED_CHARS // 1024 // 1024} MiB of text once aliases are "
                                        "expanded; refusing to load")])
        if node.tag == _TIMESTAMP:  # keep dates as written; JSON and Kubernetes have no date type
            return node.value
        if node.tag not in _SCALAR_TAGS:
            self.fail(node, path, _unsupported(node))
            return None
        return self.constructor.construct_object(node)

    def _too_big(self, node: yaml.Node) -> Problem:
        return Problem(self.doc.file, *_mark(node), "",
                       f"more than {MAX_NODES} values once aliases are expanded; refusing to load")
