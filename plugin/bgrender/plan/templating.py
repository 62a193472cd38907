"""Jinja2 expressions in string values of the base manifest, e.g.
`value: "service.version={{ version }}"` in an env var.

Only string values are templates (never keys), rendered in Jinja's immutable sandbox with
undefined names as errors. jinja2 is imported only when some value holds a template, so
the common render pays nothing for it. The names are those of one color's Deployment:
nothing about which color is active, since promotion must not restart pods (principle 4).

Anyone who can push to a watched repository writes these templates, and the plugin runs
them on every commit. So a template may only name the variables, slice them, compare
them, join them and pass them through a few string filters: no loops, calls, attributes
or arithmetic. Its output is then bounded by its own length times the longest variable,
which the sandbox alone cannot promise (`{{ "x" * 10**10 }}` is legal Jinja).
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.errors import Problem, escape
from bgrender.yamlfile.document import Path, copy_data
from bgrender.yamlfile.dump import MAX_OUTPUT_BYTES

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Locate = Callable[[Path, str], Problem]

_MARKERS = ("{{", "{%", "{#")
# Names, selectors and the namespace decide object identity; a template there could change
# them between releases, and selectors are immutable.
_FORBIDDEN: tuple[Path, ...] = (("metadata", "name"), ("metadata", "namespace"), ("spec", "selector"))
# A template is a short expression in a manifest value; the longest variable is an image
# reference of ~400 characters, so output stays well under a megabyte per value.
MAX_TEMPLATE_CHARS = 2048
# Budgets for a whole base, aliases expanded: a real Deployment has a handful of templates.
MAX_TEMPLATES = 1000
MAX_DISTINCT_TEMPLATE_CHARS = 64 * 1024  # at most ~1 s of compiling
# What the templates of one color may produce: the output limit, since more could never be printed.
MAX_OUTPUT_CHARS = MAX_OUTPUT_BYTES
_ALLOWED_NODES = frozenset({
    "Template", "Output", "TemplateData", "Name", "Const", "Concat", "Getitem", "Slice",
    "Filter", "Test", "CondExpr", "If", "Compare", "Operand", "And", "Or", "Not",
})
_ALLOWED_FILTERS = frozenset({"lower", "upper", "trim", "truncate", "default", "first", "last", "length"})
_ALLOWED_TESTS = frozenset({"defined", "undefined", "none", "string", "eq", "ne"})
VARIABLES = ("color", "image", "name", "namespace", "version")


def template_paths(data: Any, path: Path = ()) -> list[Path]:
    """Paths of the string values that hold a template, in document order."""
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in template_paths(v, path + (k,))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in template_paths(v, path + (i,))]
    return [path] if isinstance(data, str) and is_template(data) else []


def is_template(text: str) -> bool:
    """Whether a value is a template: it holds `{{`, `{%` or `{#`."""
    return any(m in text for m in _MARKERS)


def may_hold_templates(text: str) -> bool:
    """Whether the YAML `text` can hold a value with a template. Without a marker in the text,
    only an escape (`"{\\x7b"`, or a line break escaped between two braces) could make one."""
    return "\\" in text or is_template(text)


def expand(data: Any, context: dict[str, str], locate: Locate, at: Path = (),
           text: str | None = None) -> tuple[Any, list[Problem]]:
    """A copy of `data` with every template rendered, or the problems that stopped it.

    `at` is where `data` sits in the base Deployment (the pod template is expanded apart from
    the rest); `locate` receives paths relative to `data`. With the YAML `text` it was read
    from, a text that cannot hold a template (most) is not searched.
    """
    paths = template_paths(data) if text is None or may_hold_templates(text) else []
    if not paths:
        return data, []
    problems = [locate(p, "templates are not allowed here: bgrender derives names and selectors")
                for p in paths if (at + p)[:2] in _FORBIDDEN or (at + p)[:3] in _FORBIDDEN]
    if problems:
        return data, problems
    if budget := _budget_problem(data, paths, locate):
        return data, [budget]
    out = copy_data(data)
    produced = 0
    for path in paths:
        value, problem = _render_one(_get(data, path), context, path, locate)
        if problem:
            problems.append(problem)
            continue
        produced += len(value)
        if produced > MAX_OUTPUT_CHARS:
            return data, [locate(path, f"templates expand to more than {MAX_OUTPUT_CHARS // 2**20} MiB for one "
                                           "color, more than a render may print; is a template repeated through "
                                           "YAML aliases?")]
        _set(out, path, value)
    return out, problems


def _budget_problem(manifest: Any, paths: list[Path], locate: Locate) -> Problem | None:
    """Refuses, before any template is compiled, more template work than a real manifest needs:
    aliases repeat one value for free, and compiling a template costs ~10 us per character."""
    if len(paths) > MAX_TEMPLATES:
        return locate(paths[MAX_TEMPLATES], f"more than {MAX_TEMPLATES} values hold a template once aliases "
                                            "are expanded; refusing to render them")
    distinct = {_get(manifest, path) for path in paths}
    if sum(map(len, distinct)) > MAX_DISTINCT_TEMPLATE_CHARS:
        return locate(paths[0], f"the templates hold more than {MAX_DISTINCT_TEMPLATE_CHARS // 1024} KiB of "
                                "distinct text; refusing to compile them")
    return None


# Jinja's environment, made once, and each source's template or refusal (functools' caches
# would import functools on the render path, which never gets here).
_ENVIRONMENT: Any = None
_COMPILED: dict[str, tuple[Any, str | None]] = {}


def _environment() -> Any:
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        from jinja2 import StrictUndefined
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        _ENVIRONMENT = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                                                     keep_trailing_newline=True)
        _ENVIRONMENT.globals.clear()  # range, lipsum, cycler, namespace, ...: only our variables exist
    return _ENVIRONMENT


def _compiled(source: str) -> tuple[Any, str | None]:
    """The template for `source`, or why it is refused. Cached, refusals too: aliases and the
    two colors render one source many times, and only its variables differ. At most
    MAX_TEMPLATES are kept (one manifest's worth; `validate` of many apps starts over)."""
    if source not in _COMPILED:
        if len(_COMPILED) >= MAX_TEMPLATES:
            _COMPILED.clear()
        _COMPILED[source] = _compile(source)
    return _COMPILED[source]


def _compile(source: str) -> tuple[Any, str | None]:
    import jinja2

    env = _environment()
    if len(source) > MAX_TEMPLATE_CHARS:
        return None, f"template is longer than {MAX_TEMPLATE_CHARS} characters"
    try:
        tree = env.parse(source)
        if refusal := _refusal(tree):
            return None, f"template error: {refusal}"
        return env.from_string(tree), None
    except jinja2.TemplateSyntaxError as err:
        return None, f"template syntax error: {escape(err.message or '')}"
    except Exception as err:  # the parser's own limits (RecursionError on deep nesting), or a bug
        return None, f"template error: {type(err).__name__}: {escape(str(err))}"


def substituted(source: str, context: dict[str, str]) -> str | None:
    """`source` rendered without Jinja when its only tags are plain variables (`{{ version }}`,
    spaces optional) that `context` defines: what Jinja renders for it, and a third of a render
    less than importing Jinja. None for anything else (Jinja renders it, or says what is wrong)."""
    if "{%" in source or "{#" in source or "\r" in source or len(source) > MAX_TEMPLATE_CHARS:
        return None  # blocks, comments; Jinja writes every line break as \n
    pieces = source.split("{{")
    out = [pieces[0]]
    for piece in pieces[1:]:
        name, end, text = piece.partition("}}")
        name = name.strip(" ")
        value = context.get(name) if name in VARIABLES else None
        if not end or value is None:
            return None
        out += (value, text)
    return "".join(out)


def _render_one(source: str, context: dict[str, str], path: Path, locate: Locate) -> tuple[str, Problem | None]:
    plain = substituted(source, context)
    if plain is not None:
        return plain, None
    import jinja2

    template, refusal = _compiled(source)
    if refusal:
        return "", locate(path, refusal)
    try:
        return template.render(context), None
    except jinja2.UndefinedError as err:  # "namespace" when the app has none, or an index past the end
        message = err.message or ""
        advice = ": set metadata.namespace or $ARGOCD_APP_NAMESPACE" if message == "'namespace' is undefined" else ""
        return "", locate(path, f"template error: {escape(message)}{advice}")
    except jinja2.TemplateError as err:  # includes SecurityError from the sandbox
        return "", locate(path, f"template error: {escape(str(err))}")
    except Exception as err:  # whatever a user's template raises (a filter's assert too) is theirs to fix
        return "", locate(path, f"template error: {type(err).__name__}: {escape(str(err))}")


def _refusal(tree: Any) -> str | None:
    """Why a parsed template uses more than the allowed expressions, or None."""
    from jinja2 import nodes

    indexes = [node.arg for node in tree.find_all(nodes.Getitem)]
    if not all(_literal_index(index) for index in indexes):
        # `name['upper']` would read a str method: subscripts reach no more than attributes do.
        return "subscripts may only be integers or slices of integers, e.g. version[0] or version[:7]"
    negated_indexes = {id(n) for index in indexes for n in [index, *index.find_all(nodes.Neg)]}  # version[-7:]
    for node in tree.find_all(nodes.Node):
        kind = type(node).__name__
        if kind == "Neg" and id(node) in negated_indexes:
            continue
        if kind not in _ALLOWED_NODES:
            return f"{kind.lower()} expressions are not allowed; templates may only use variables, " \
                   f"slices, comparisons, ~ and the filters {', '.join(sorted(_ALLOWED_FILTERS))}"
        if isinstance(node, nodes.Filter) and node.name not in _ALLOWED_FILTERS:
            return f'filter "{node.name}" is not allowed (allowed: {", ".join(sorted(_ALLOWED_FILTERS))})'
        if isinstance(node, nodes.Name) and node.name not in VARIABLES:
            return f'unknown name "{node.name}" (available: {", ".join(VARIABLES)})'
        if isinstance(node, nodes.Test) and node.name not in _ALLOWED_TESTS:
            return f'test "{node.name}" is not allowed (allowed: {", ".join(sorted(_ALLOWED_TESTS))})'
    return None


def _literal_index(node: Any) -> bool:
    from jinja2 import nodes

    if isinstance(node, nodes.Slice):
        return all(part is None or _literal_integer(part) for part in (node.start, node.stop, node.step))
    return _literal_integer(node)


def _literal_integer(node: Any) -> bool:
    from jinja2 import nodes

    if isinstance(node, nodes.Neg):
        node = node.node
    return isinstance(node, nodes.Const) and type(node.value) is int


def _get(data: Any, path: Path) -> Any:
    for key in path:
        data = data[key]
    return data


def _set(data: Any, path: Path, value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value

