"""PyYAML, imported for bgrender without the standard modules it only names, and without the
regexes bgrender never uses.

document.py and dump.py import `yaml` from here, never directly: on the render path the first
import of PyYAML must go through this module. Nothing else belongs here.

Why: a render is mostly imports (docs/performance.md), and PyYAML's modules import `re`
(about 11 M instructions, most of them enum's), `datetime` (~4.7 M), `collections` (~5 M),
`types`, `base64`, `binascii` and `copyreg` (~2.5 M together), a third of a render, while
bgrender reads and writes through libyaml and uses none of them. `import yaml` also compiles every
class-level regex of its modules, of which bgrender needs few: `yaml.reader.Reader.
NON_PRINTABLE` (a character class spanning all of Unicode, ~5 ms to compile) checks input for
the pure-Python Reader; `SafeConstructor.timestamp_regexp` (~0.5 ms) parses dates, which
bgrender keeps as written; the resolver's eight implicit types (~2.4 ms) see only the scalars
dump.plain_tag does not know, so a render usually compiles none of them.

So while PyYAML is imported, the modules it imports find stand-ins in sys.modules for those
seven (for `re` always; for the others while the real one is not imported yet). A stand-in holds
what PyYAML uses at import, taken from what is at hand: `re.compile` returns a pattern that
compiles on first use, `re.X` is the flag's value, `datetime.date` and `.datetime` are the
classes `_datetime` defines (datetime's own), `collections.OrderedDict` is `_collections`'
and `collections.abc` is `_collections_abc`, as the real modules hold them. Anything else a
stand-in is asked (base64's encoders for `!!binary`, say) comes from the real module, imported
then. After the import, `import re` (or any of them) anywhere gets the real module.
"""

from __future__ import annotations

import sys

from bgrender import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType
else:
    ModuleType = type(sys)  # what `types` calls it (`types` itself is stood in for)


class _StandIn(ModuleType):
    """Stands in for a standard module while PyYAML is imported: it holds what PyYAML uses at
    import (`known`, from what is at hand), and anything else comes from the real module,
    imported on first use."""

    def __init__(self, name: str, **known: object) -> None:
        super().__init__(name)
        self.__dict__.update(known)

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):  # copy, pickle and friends probing for hooks
            raise AttributeError(name)
        value = getattr(real(self.__name__), name)
        setattr(self, name, value)
        return value


_REAL: dict[str, ModuleType] = {}  # real modules imported while their stand-in was in place


def real(name: str) -> ModuleType:
    """The real module `name`, imported now if it was not (also while its stand-in is in place)."""
    module = sys.modules.get(name)
    if module is not None and not isinstance(module, _StandIn):
        return module
    if name not in _REAL:
        if module is not None:
            del sys.modules[name]
        try:
            __import__(name)
            _REAL[name] = sys.modules[name]
        finally:
            if module is not None:  # asked while PyYAML is being imported: the stand-in stays until it ends
                sys.modules[name] = module
    return _REAL[name]


class _LazyPattern:
    """Stands in for a compiled pattern: compiles on the first attribute used, then keeps
    each attribute on itself, so later calls cost what they cost on the real pattern."""

    def __init__(self, pattern: str, flags: int) -> None:
        self._args = (pattern, flags)

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):  # copy, pickle and friends probing for hooks: none here
            raise AttributeError(name)
        value = getattr(real("re").compile(*self._args), name)
        setattr(self, name, value)
        return value


def _stand_ins() -> dict[str, ModuleType]:
    """What PyYAML's modules find in sys.modules while they are imported. `re` always (its
    patterns compile on first use); the others only when the real one is not imported yet."""
    import _collections  # type: ignore[import-not-found]  # built in
    import _collections_abc  # imported at startup, by os
    import _datetime  # type: ignore[import-not-found]  # built in, or beside the standard library

    stand_ins: dict[str, ModuleType] = {  # 64: re.VERBOSE's value (a test holds it)
        "re": _StandIn("re", compile=lambda pattern, flags=0: _LazyPattern(pattern, flags), X=64, VERBOSE=64)}
    if "datetime" not in sys.modules:  # the very classes datetime exports
        stand_ins["datetime"] = _StandIn("datetime", date=_datetime.date, datetime=_datetime.datetime)
    if "collections" not in sys.modules:  # the package and its submodule together, or neither
        stand_ins["collections"] = _StandIn("collections", OrderedDict=_collections.OrderedDict, abc=_collections_abc)
        stand_ins["collections.abc"] = _collections_abc
    if "types" not in sys.modules:  # the very types `types` names so
        stand_ins["types"] = _StandIn("types", FunctionType=type(_stand_ins), BuiltinFunctionType=type(len),
                                      ModuleType=ModuleType, GeneratorType=type(c for c in ""))
    for name in ("base64", "binascii", "copyreg"):  # only for data bgrender never reads or writes (binary, objects)
        if name not in sys.modules:
            stand_ins[name] = _StandIn(name)
    return stand_ins


def _import_yaml() -> ModuleType:
    stand_ins = _stand_ins()
    before = {name: sys.modules.get(name) for name in stand_ins}
    sys.modules.update(stand_ins)
    try:
        import yaml
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                after = before[name] or _REAL.get(name)  # the real module, if imported before or meanwhile
                if after is None:
                    del sys.modules[name]
                else:
                    sys.modules[name] = after
    return yaml


if TYPE_CHECKING:
    import yaml
else:
    yaml = _import_yaml()
