"""Strict, safe YAML loading that remembers where every value came from.

PyYAML silently lets a duplicate key win and forgets positions once it builds Python
objects, so we compose nodes (C parser when present) and build plain values ourselves:
only the safe core types, no custom tags, no merge keys, duplicate keys reported, and
every value's line and column kept for error messages. Aliases are expanded, which is
why the node budget counts expanded nodes (a "billion laughs" file stays small on disk).
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.errors import InvalidInput, Problem, escape, line_column, quote
from bgrender.yamlfile.dump import INT_TAG, NULL_TAG, STR_TAG, TAG, Loader
from bgrender.yamlfile.pyyaml import yaml  # never `import yaml` directly: pyyaml.py says why

if TYPE_CHECKING:
    from typing import Any

Path = tuple  # of str (mapping keys) and int (sequence indexes)

# Expanded nodes one document may hold. A bluegreen.yaml has ~50, a big Deployment ~2,000;
# 100,000 leaves room for any real manifest while an alias bomb stops within milliseconds.
MAX_NODES = 100_000
# Characters of scalar text once aliases are expanded, each value counted with one character
# of indentation per level (what printing it costs at least): four times the largest file we
# read, so aliases may share text but not multiply one long string, or a deeply nested list,
# into gigabytes of output.
MAX_EXPANDED_CHARS = 4 * 1024 * 1024
# Nesting depth. Real manifests nest ~12 deep; Python's own recursion limit is 1,000.
MAX_DEPTH = 100

_SCALAR_TAGS = {f"{TAG}{t}" for t in ("str", "int", "float", "bool", "null")}
_TIMESTAMP = f"{TAG}timestamp"
# YAML 1.1's "value" type: PyYAML resolves a plain `=` to it. Nothing else reads it so, and
# Kubernetes has no such type: it is the string "=".
_VALUE = f"{TAG}value"
_MAP, _SEQ, _MERGE = f"{TAG}map", f"{TAG}seq", f"{TAG}merge"
_FLOAT = f"{TAG}float"
# Kubernetes integers are 64-bit; an integer needs at most 64 binary digits and a prefix.
# Counting first keeps Python from converting thousands of digits (it refuses past 4,300).
MAX_INT_DIGITS = 66
_INFINITY = float("inf")


MAX_KEY_SHOWN = 64  # a field path names user-written keys; keep each one short in messages
MAX_PATH_SHOWN = 240


def get_in(data: Any, path: Path) -> Any:
    """The value at `path` (mapping keys) in loaded data; None where a step is missing or not
    a mapping."""
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def dotted(path: Path) -> str:
    """("spec", "hosts", 0) -> "spec.hosts[0]"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        part = part if len(part) <= MAX_KEY_SHOWN else part[:MAX_KEY_SHOWN] + "..."
        out += f".{part}" if out else part
    if len(out) > MAX_PATH_SHOWN:  # deep nesting: the start and the end say where
        out = out[:MAX_PATH_SHOWN // 2] + "..." + out[-(MAX_PATH_SHOWN // 2):]
    return out


class Document:
    """One YAML document: its text, its composed nodes, the plain data built from them, and the
    position of every value and key.

    The one model of a YAML file in bgrender: reading with positions (bluegreen.yaml, the base,
    the lock) and minimal edits (edit.py's `set_scalar`, for release, promote and rollback) use the same
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
        node: yaml.Node | None = self.root
        for key in path:
            if not isinstance(node, yaml.MappingNode):
                return None
            node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
            if node is None:
                return None
        return None if isinstance(node, yaml.ScalarNode) and node.tag == NULL_TAG else node


def load_document(text: str, file: str) -> Document:
    """Parse exactly one YAML document from `text` (no byte-order mark); raise InvalidInput on
    any problem."""
    try:
        root = yaml.compose(text, Loader=Loader)
    except yaml.YAMLError as err:
        raise InvalidInput([_syntax_problem(err, text, file)]) from err
    except RecursionError as err:  # the composer recurses per nesting level
        raise InvalidInput([Problem(file, 1, 1, "", f"nesting is deeper than {MAX_DEPTH} levels")]) from err
    if root is None:
        raise InvalidInput([Problem(file, 1, 1, "", "the file holds no YAML document")])
    builder = _Builder(Document(file, text, root))
    if "&" in text:  # an alias needs an anchor; without one, the builder stops where the check would
        builder.check_budget(root)
    builder.doc.data = builder.build(root, ())
    if builder.problems:
        raise InvalidInput(builder.problems)
    return builder.doc


def load_streams(sources: list[tuple[str, str]]) -> list[list[Document]]:
    """The documents of each (text, file) in `sources`, a file being a stream of documents with
    `---` between them; empty and null documents are left out. One node and text budget counts
    all the files together, so a hundred files of aliases cost no more than one. Raise
    InvalidInput with every file's problems."""
    builder = _Builder(Document("", "", yaml.ScalarNode(NULL_TAG, "")))
    problems: list[Problem] = []
    streams: list[list[Document]] = []
    for text, file in sources:
        try:
            roots = list(yaml.compose_all(text, Loader=Loader))
        except yaml.YAMLError as err:
            roots = []
            problems.append(_syntax_problem(err, text, file))
        except RecursionError:
            roots = []
            problems.append(Problem(file, 1, 1, "", f"nesting is deeper than {MAX_DEPTH} levels"))
        streams.append([])
        for root in roots:
            if isinstance(root, yaml.ScalarNode) and root.tag == NULL_TAG:
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
    elif (position := getattr(err, "position", None)) is not None:  # ReaderError: a bad character, no mark
        line, column = line_column(text, position)
    else:
        line, column = 1, 1
    reason = getattr(err, "problem", None) or str(err).splitlines()[0]
    if "expected a single document" in str(err):
        reason = "holds more than one YAML document; put one object in this file"
    return Problem(file, line, column, "", f"invalid YAML: {escape(reason)}")  # may hold the offending character


def _unsupported(node: yaml.Node) -> str:
    return f"unsupported tag {quote(node.tag)}; only plain YAML values are allowed"


# The problems of a value below never quote it: the loader cannot tell a Secret's value from
# any other, and a message reaches Argo CD's UI; the position says which value it is.
def _number_problem(node: yaml.ScalarNode) -> str | None:
    """Numbers that readers disagree on, or that no Kubernetes field can hold, before they
    are converted."""
    if node.tag not in (INT_TAG, _FLOAT):
        return None
    if ":" in node.value:  # 1:00 is 60 to YAML 1.1 (PyYAML), a string to YAML 1.2 and to Go
        return ("is a base-60 number in YAML 1.1 but a string in YAML 1.2 and to kubectl; "
                "quote it for a string, or write the number in decimal")
    digits = node.value.replace("_", "").lstrip("+-")
    if len(digits) > MAX_INT_DIGITS and node.tag == INT_TAG:
        return f"an integer of {len(digits)} digits is out of range (Kubernetes integers are 64-bit)"
    return None


def _value_problem(node: yaml.ScalarNode, value: Any) -> str | None:
    if isinstance(value, float) and not -_INFINITY < value < _INFINITY:  # not finite (math.isfinite costs a load)
        return ("is not a finite number, and JSON (so Kubernetes) has no infinity or NaN; "
                "quote it for a string")
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return "is out of range (Kubernetes integers are 64-bit)"
    return None


Sizes = dict  # id(node) -> (values, characters at depth 0, scalars) once aliases are expanded


def _expanded_sizes(root: yaml.Node) -> Sizes:
    """What `_Builder.build` will count for each node, every shared (aliased) node measured once.
    Characters are counted as if the node were the root; placed `depth` levels down, each of its
    scalars costs `depth` more (see `_cost`). Down to MAX_DEPTH only: deeper nesting is the
    builder's to report (and an alias may make the graph a cycle)."""
    sizes: Sizes = {}

    def measure(node: yaml.Node, depth: int) -> tuple[int, int, int]:
        if id(node) not in sizes:
            if isinstance(node, yaml.ScalarNode) or depth > MAX_DEPTH:
                scalar = isinstance(node, yaml.ScalarNode)
                sizes[id(node)] = (1, len(node.value) if scalar else 0, int(scalar))
            else:
                counted = [measure(child, depth + 1) for _, child in _children(node)]
                sizes[id(node)] = (1 + sum(n for n, _, _ in counted), sum(c + s for _, c, s in counted),
                                   sum(s for _, _, s in counted))
        return sizes[id(node)]

    measure(root, 0)
    return sizes


def _cost(sizes: Sizes, node: yaml.Node, depth: int, which: int) -> int:
    """Values (`which` 0) or characters (1) that `node`, `depth` levels down, adds to the builder's count."""
    values, chars, scalars = sizes.get(id(node), (0, 0, 0))
    return values if which == 0 else chars + depth * scalars


def _first_past(root: yaml.Node, sizes: Sizes, limit: int, which: int) -> tuple[yaml.Node, Path, int]:
    """The node, its path and its place in document order (the builder's value count there) at
    which building first counts more than `limit` values (`which` 0) or characters (1); the
    root's cost must pass it."""
    node, total, index = root, 0, 0
    path: Path = ()
    while True:
        index += 1
        if isinstance(node, yaml.ScalarNode):
            return node, path, index
        total += 1 - which  # a collection is one value and no text
        if total > limit:
            return node, path, index
        for key, child in _children(node):
            cost = _cost(sizes, child, len(path) + 1, which)
            if total + cost > limit:
                node, path = child, path + (key,)
                break
            total += cost
            index += _cost(sizes, child, 0, 0)
        else:
            return node, path, index


def _children(node: yaml.Node) -> list[tuple[str | int, yaml.Node]]:
    if isinstance(node, yaml.MappingNode):
        return [(k.value if isinstance(k, yaml.ScalarNode) else "?", v) for k, v in node.value]
    return list(enumerate(node.value)) if isinstance(node, yaml.SequenceNode) else []


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
        self.resolver = yaml.resolver.Resolver()

    def fail(self, node: yaml.Node, path: Path, message: str) -> None:
        line, column = _mark(node)
        self.problems.append(Problem(self.doc.file, line, column, dotted(path), message))

    def check_budget(self, root: yaml.Node) -> None:
        """Refuses a document whose expansion passes a limit before building any of it: the
        sizes are counted on the composed graph, where an alias is one shared node, so a
        billion-laughs file costs microseconds, not 100,000 values built. The problem is the
        one the builder would stop at, at the same value."""
        sizes = _expanded_sizes(root)
        past = [(*_first_past(root, sizes, limit, which), which)
                for which, limit in enumerate((MAX_NODES, MAX_EXPANDED_CHARS)) if _cost(sizes, root, 0, which) > limit]
        if past:
            node, path, _, which = min(past, key=lambda p: (p[2], p[3]))  # the first in document order
            raise InvalidInput([self._too_much_text(node, path) if which else self._too_big(node)])

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
        assert isinstance(node, yaml.ScalarNode)  # the composer makes no other kind of node
        return self.build_scalar(node, path, depth)

    def build_mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        if node.tag != _MAP:
            self.fail(node, path, _unsupported(node))
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                self.fail(key_node, path, "merge keys (<<) are not supported; write the keys out")
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in (STR_TAG, _VALUE):
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

    def build_scalar(self, node: yaml.ScalarNode, path: Path, depth: int) -> Any:
        self.chars += len(node.value) + depth
        if self.chars > MAX_EXPANDED_CHARS:
            raise InvalidInput([self._too_much_text(node, path)])
        if node.tag in (STR_TAG, _TIMESTAMP, _VALUE):  # a string is its text (as the constructor makes it);
            return node.value  # timestamps are kept as written: JSON and Kubernetes have no such type
        if node.tag not in _SCALAR_TAGS:
            self.fail(node, path, _unsupported(node))
            return None
        problem = _number_problem(node)
        if problem is None:
            try:
                value = self.constructor.construct_object(node)
            except (ValueError, LookupError, yaml.YAMLError):  # an explicit tag on text it cannot hold
                problem = f"is not a valid {node.tag.removeprefix(TAG)}" + (
                    " (quote it for a string)" if self._implicit(node) else "")
            else:
                problem = _value_problem(node, value)
        if problem:
            self.fail(node, path, problem)
            return None
        return value

    def _implicit(self, node: yaml.ScalarNode) -> bool:
        """Whether the tag came from how the plain value looks (`0x_`), not from `!!int`."""
        return not node.style and self.resolver.resolve(yaml.ScalarNode, node.value, (True, False)) == node.tag

    def _too_much_text(self, node: yaml.Node, path: Path) -> Problem:
        return Problem(self.doc.file, *_mark(node), dotted(path), f"more than {MAX_EXPANDED_CHARS // 1024 // 1024} "
                       "MiB of text once aliases are expanded and indented; refusing to load")

    def _too_big(self, node: yaml.Node) -> Problem:
        return Problem(self.doc.file, *_mark(node), "",
                       f"more than {MAX_NODES} values once aliases are expanded; refusing to load")


def copy_data(data: Any) -> Any:
    """A copy of loaded YAML data: new dicts and lists, the same scalars (all immutable).
    copy.deepcopy gives the same for such data, several times slower, and costs an import."""
    if isinstance(data, dict):
        return {k: copy_data(v) for k, v in data.items()}
    if isinstance(data, list):
        return [copy_data(v) for v in data]
    return data
