"""Record: an immutable value class declared by annotations, like a frozen dataclass.

The render path is what Argo CD runs on every commit, and importing `dataclasses` (with
the `inspect` and `ast` it pulls in) and `typing` costs ~10 ms, a fifth of a whole render.
A Record needs neither: its fields are its class annotations, in order; a class attribute
is the field's default. Records compare, order and hash by their fields.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Self


class Record:
    __fields__: tuple[str, ...] = ()
    __defaults__: dict[str, object] = {}

    def __init_subclass__(cls) -> None:
        own = tuple(cls.__dict__.get("__annotations__", ()))
        cls.__fields__ = tuple(f for f in cls.__fields__ if f not in own) + own
        # A default is a class attribute of this class or one the base's defaults hold (hasattr
        # would build an AttributeError, message and all, for every field without one).
        inherited, own_values = cls.__defaults__, cls.__dict__
        cls.__defaults__ = {f: own_values[f] if f in own_values else inherited[f] for f in cls.__fields__
                            if f in own_values or f in inherited}

    def __init__(self, *args: object, **kwargs: object) -> None:
        # Hundreds are built at import (spec.py declares the format with them): kept cheap.
        fields = self.__fields__
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__} takes {len(fields)} fields, got {len(args)}")
        values = dict(zip(fields, args))
        if kwargs:
            for name in kwargs:
                if name not in fields or name in values:
                    raise TypeError(f"{type(self).__name__}: unexpected or repeated field {name!r}")
            values.update(kwargs)
        if len(values) < len(fields):
            values = {**self.__defaults__, **values}
            if len(values) < len(fields):
                missing = next(f for f in fields if f not in values)
                raise TypeError(f"{type(self).__name__}: missing field {missing!r}")
        self.__dict__.update(values)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def replace(self, **changes: object) -> Self:
        """A copy with some fields changed (dataclasses.replace for Records)."""
        return type(self)(**{**dict(zip(self.__fields__, self._values())), **changes})

    def _values(self) -> tuple:
        return tuple(getattr(self, f) for f in self.__fields__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._values() == other._values()

    def __lt__(self, other: Record) -> bool:
        return self._values() < other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.__fields__)
        return f"{type(self).__name__}({fields})"
