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

from collections.abc import Callable

from .errors import Problem
from .yamldoc import Path

TYPE_CHECKING = False  # the typing module costs ~3 ms at startup; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

_MARKERS = ("{{", "{%", "{#")
# Names, selectors and the namespace decide object identity; a template there could change
# them between releases, and selectors are immutable.
_FORBIDDEN: tuple[Path, ...] = (("metadata", "name"), ("metadata", "namespace"), ("spec", "selector"))
# A template is a short expression in a manifest value; the longest variable is an image
# reference of ~400 characters, so output stays well under a megabyte per value.
MAX_TEMPLATE_CHARS = 2048
_ALLOWED_NODES = frozenset({
    "Template", "Output", "TemplateData", "Name", "Const", "Concat", "Getitem", "Slice",
    "Filter", "Test", "CondExpr", "If", "Compare", "Operand", "And", "Or", "Not",
})
_ALLOWED_FILTERS = frozenset({"lower", "upper", "trim", "truncate", "default", "first", "last", "length"})
_ALLOWED_TESTS = frozenset({"defined", "undefined", "none", "string", "eq", "ne"})
VARIABLES = ("color", "image", "name", "namespace", "version")

Locate = Callable[[Path, str], Problem]


def template_paths(data: Any, path: Path = ()) -> list[Path]:
    """Paths of the string values that hold a template, in document order."""
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in template_paths(v, path + (k,))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in template_paths(v, path + (i,))]
    return [path] if isinstance(data, str) and any(m in data for m in _MARKERS) else []


def expand(data: Any, context: dict[str, str], locate: Locate, at: Path = ()) -> tuple[Any, list[Problem]]:
    """A copy of `data` with every template rendered, or the problems that stopped it.

    `at` is where `data` sits in the base Deployment (the pod template is expanded apart from
    the rest); `locate` receives paths relative to `data`.
    """
    paths = template_paths(data)
    if not paths:
        return data, []
    problems = [locate(p, "templates are not allowed here: bgrender derives names and selectors")
                for p in paths if (at + p)[:2] in _FORBIDDEN or (at + p)[:3] in _FORBIDDEN]
    if problems:
        return data, problems
    env = _environment()
    out = copy_data(data)
    for path in paths:
        value, problem = _render_one(env, _get(data, path), context, path, locate)
        if problem:
            problems.append(problem)
        else:
            _set(out, path, value)
    return out, problems


def _environment() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.globals.clear()  # range, lipsum, cycler, namespace, ...: only our variables exist
    return env


def _render_one(env: Any, source: str, context: dict[str, str], path: Path,
                locate: Locate) -> tuple[str, Problem | None]:
    import jinja2

    try:
        if len(source) > MAX_TEMPLATE_CHARS:
            return "", locate(path, f"template is longer than {MAX_TEMPLATE_CHARS} characters")
        if refusal := _refusal(env.parse(source)):
            return "", locate(path, f"template error: {refusal}")
        value = env.from_string(source).render(context)
    except jinja2.UndefinedError as err:  # only "namespace", when the app has none
        return "", locate(path, f"template error: {err.message}: set metadata.namespace or $ARGOCD_APP_NAMESPACE")
    except jinja2.TemplateSyntaxError as err:
        return "", locate(path, f"template syntax error: {err.message}")
    except jinja2.TemplateError as err:  # includes SecurityError from the sandbox
        return "", locate(path, f"template error: {err}")
    except (ArithmeticError, LookupError, ValueError, TypeError, RecursionError) as err:
        return "", locate(path, f"template error: {type(err).__name__}: {err}")
    return value, None


def _refusal(tree: Any) -> str | None:
    """Why a parsed template uses more than the allowed expressions, or None."""
    from jinja2 import nodes

    for node in tree.find_all(nodes.Node):
        kind = type(node).__name__
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


def copy_data(data: Any) -> Any:
    """A copy of loaded YAML data: new dicts and lists, the same scalars (all immutable).
    copy.deepcopy gives the same for such data, several times slower, and costs an import."""
    if isinstance(data, dict):
        return {k: copy_data(v) for k, v in data.items()}
    if isinstance(data, list):
        return [copy_data(v) for v in data]
    return data


def _get(data: Any, path: Path) -> Any:
    for key in path:
        data = data[key]
    return data


def _set(data: Any, path: Path, value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value

