"""The node types bluegreen.yaml's declaration is built of (spec.py re-exports them; routes.py
builds routing.policy and its siblings of them too): a Scalar with its constraints, a Mapping of
named fields, a Sequence, a Map of user-chosen keys, an Object checked elsewhere."""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.record import Record

if TYPE_CHECKING:
    from typing import Any, Union


class Scalar(Record):
    type: type | tuple[type, ...]  # (int, str): a number or a name, like Kubernetes' IntOrString
    description: str
    enum: tuple[Any, ...] = ()
    pattern: str | None = None
    hint: str = ""  # what the pattern means, for messages
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    default: Any = None


class Mapping(Record):
    description: str
    fields: dict[str, Node]
    required: tuple[str, ...] = ()


class Sequence(Record):
    description: str
    item: Node
    min_items: int = 0
    max_items: int | None = None


class Map(Record):
    """A mapping whose keys are names the user chooses (a ConfigMap's keys), each checked like
    `key`, and whose values are checked like `value`."""

    description: str
    key: Scalar
    value: Node


class Object(Record):
    """A mapping whose inside is checked elsewhere (an inline PodTemplateSpec)."""

    description: str


if TYPE_CHECKING:
    Node = Union[Scalar, Mapping, Sequence, Map, Object]
