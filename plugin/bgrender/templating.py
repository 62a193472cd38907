"""Jinja2 expressions in string values of the base manifest, e.g.
`value: "service.version={{ version }}"` in an env var.

Only string values are templates (never keys), rendered in Jinja's immutable sandbox with
undefined names as errors. jinja2 is imported only when some value holds a template, so
the common render pays nothing for it. The names are those of one color's Deployment:
nothing about which color is active, since promotion must not restart pods (principle 4).
"""

from __future__ import annotations

from typing import Any, Callable

from .errors import Problem
from .yamldoc import Path

_MARKERS = ("{{", "{%", "{#")
# Names, selectors and the namespace decide object identity; a template there could change
# them between releases, and selectors are immutable.
_FORBIDDEN: tuple[Path, ...] = (("metadata", "name"), ("metadata", "namespace"), ("spec", "selector"))
# Bounded output: a template cannot grow one value past this, whatever loops it runs.
MAX_VALUE_CHARS = 64 * 1024

Locate = Callable[[Path, str], Problem]


def template_paths(data: Any, path: Path = ()) -> list[Path]:
    """Paths of the string values that hold a template, in document order."""
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in template_paths(v, path + (k,))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in template_paths(v, path + (i,))]
    return [path] if isinstance(data, str) and any(m in data for m in _MARKERS) else []


def expand(manifest: Any, context: dict[str, str], locate: Locate) -> tuple[Any, list[Problem]]:
    """A copy of `manifest` with every template rendered, or the problems that stopped it."""
    paths = template_paths(manifest)
    if not paths:
        return manifest, []
    problems = [locate(p, "templates are not allowed here: bgrender derives names and selectors")
                for p in paths if p[:2] in _FORBIDDEN or p[:3] in _FORBIDDEN]
    if problems:
        return manifest, problems
    env = _environment()
    out = _copy_containers(manifest)
    for path in paths:
        value, problem = _render_one(env, _get(manifest, path), context, path, locate)
        if problem:
            problems.append(problem)
        else:
            _set(out, path, value)
    return out, problems


def _environment() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                                         keep_trailing_newline=True)


def _render_one(env: Any, source: str, context: dict[str, str], path: Path,
                locate: Locate) -> tuple[str, Problem | None]:
    import jinja2

    try:
        value = env.from_string(source).render(context)
    except jinja2.UndefinedError as err:
        names = ", ".join(sorted(context))
        return "", locate(path, f"template error: {err.message} (available: {names})")
    except jinja2.TemplateSyntaxError as err:
        return "", locate(path, f"template syntax error: {err.message}")
    except jinja2.TemplateError as err:  # includes SecurityError from the sandbox
        return "", locate(path, f"template error: {err}")
    except (ArithmeticError, ValueError, TypeError, MemoryError, RecursionError) as err:
        return "", locate(path, f"template error: {type(err).__name__}")
    if len(value) > MAX_VALUE_CHARS:
        return "", locate(path, f"template output is longer than {MAX_VALUE_CHARS} characters")
    return value, None


def _copy_containers(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _copy_containers(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy_containers(v) for v in data]
    return data


def _get(data: Any, path: Path) -> Any:
    for key in path:
        data = data[key]
    return data


def _set(data: Any, path: Path, value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value

