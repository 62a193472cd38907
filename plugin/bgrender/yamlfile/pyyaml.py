"""PyYAML, imported for bgrender without the regexes it compiles at import and bgrender never uses.

yamldoc.py and dump.py import `yaml` from here, never directly: on the render path the first
import of PyYAML must go through this module. Nothing else belongs here.

Why: `import yaml` compiles every class-level regex of its modules, and bgrender needs few
of them. `yaml.reader.Reader.NON_PRINTABLE` (a character class spanning all of Unicode, ~5 ms
to compile, more than bgrender's own work) checks input for the pure-Python Reader, and
bgrender reads through libyaml; `SafeConstructor.timestamp_regexp` (~0.5 ms) parses dates,
which bgrender keeps as written; the resolver's eight implicit types (~2.4 ms) see only the
scalars dump.plain_tag does not know, so a render usually compiles none of them. So while
PyYAML is imported, `re.compile` called from those three modules returns a pattern that
compiles on first use. A caller that
does use one (a pure-Python loader elsewhere in the process) gets the same pattern, only
later. Every other compile, and `re.compile` after the import, is untouched.
"""

from __future__ import annotations

import re
import sys

from bgrender import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

_LAZY_MODULES = frozenset({"yaml.reader", "yaml.constructor", "yaml.resolver"})


class _LazyPattern:
    """Stands in for a compiled pattern: compiles on the first attribute used, then keeps
    each attribute on itself, so later calls cost what they cost on the real pattern."""

    def __init__(self, pattern: str, flags: int) -> None:
        self._args = (pattern, flags)

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):  # copy, pickle and friends probing for hooks: none here
            raise AttributeError(name)
        value = getattr(re.compile(*self._args), name)
        setattr(self, name, value)
        return value


def _import_yaml() -> ModuleType:
    compile_now = re.compile

    def compile_later_in_yaml(pattern: str, flags: int = 0) -> re.Pattern[str] | _LazyPattern:
        if sys._getframe(1).f_globals.get("__name__") in _LAZY_MODULES:
            return _LazyPattern(pattern, flags)
        return compile_now(pattern, flags)

    re.compile = compile_later_in_yaml  # type: ignore[assignment]  # a deliberate swap, undone below
    try:
        import yaml
    finally:
        re.compile = compile_now
    return yaml


if TYPE_CHECKING:
    import yaml
else:
    yaml = _import_yaml()
