"""spec.INTENT as a JSON Schema (draft 2020-12), for editors and yaml-language-server."""

from __future__ import annotations

from bgrender import TYPE_CHECKING, __version__
from bgrender.intent import spec

if TYPE_CHECKING:
    from typing import Any

SCHEMA_ID = "https://bgrender.github.io/bgrender/schemas/bluegreen-v1alpha1.json"  # where the docs site publishes it


def json_schema() -> dict[str, Any]:
    schema = _node(spec.INTENT)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = f"bgrender BlueGreen (bgrender {__version__})"
    # Relations the walk cannot express: exactly one base, and auto mode needs a smoke test.
    spec_schema = schema["properties"]["spec"]
    spec_schema["oneOf"] = [{"required": ["deployment"]}, {"required": ["template"]}]
    spec_schema["if"] = {"properties": {"promotion": {"properties": {"mode": {"const": "auto"}},
                                                      "required": ["mode"]}},
                         "required": ["promotion"]}
    spec_schema["then"] = {"properties": {"promotion": {"required": ["smokeTest"]}}}
    _companion_relations(spec_schema["properties"])
    _analysis_relations(spec_schema["properties"]["promotion"]["properties"]["analysis"])
    # routing.match: a prefix or an exact path (when it is a mapping: null means absent).
    match = spec_schema["properties"]["routing"]["properties"]["match"]
    match["if"] = {"type": "object"}
    match["then"] = {"oneOf": [{"required": ["prefix"]}, {"required": ["exact"]}]}
    return schema


def _analysis_relations(analysis: dict[str, Any]) -> None:
    """A query has exactly one condition (a null one counts as absent, as for the validator)."""
    query = analysis["properties"]["queries"]["items"]
    query["oneOf"] = [{"required": [key], "properties": {key: {"type": "string"}}}
                      for key in ("successCondition", "failureCondition")]


def _companion_relations(properties: dict[str, Any]) -> None:
    """A ConfigMap has files, data or both; a PodDisruptionBudget sets exactly one bound; a
    metric holds the field its type names."""
    config_map = properties["configMaps"]["items"]
    config_map["anyOf"] = [{"required": ["files"]}, {"required": ["data"]}]
    pdb = properties["podDisruptionBudget"]
    # Only when it is a mapping: null means absent, and `required` would let null pass both branches.
    pdb["if"] = {"type": "object"}
    pdb["then"] = {"oneOf": [{"required": ["minAvailable"]}, {"required": ["maxUnavailable"]}]}
    metric = properties["autoscaling"]["properties"]["metrics"]["items"]
    metric["allOf"] = [{"if": {"properties": {"type": {"const": kind}}}, "then": {"required": [field]}}
                       for kind, field in spec.METRIC_TYPES.items()]


def _node(node: spec.Node) -> dict[str, Any]:
    if isinstance(node, spec.Mapping):
        properties = {k: _node(v) if k in node.required else _nullable(_node(v)) for k, v in node.fields.items()}
        out: dict[str, Any] = {"type": "object", "description": node.description, "additionalProperties": False,
                               "properties": properties}
        if node.required:
            out["required"] = list(node.required)
        return out
    if isinstance(node, spec.Object):
        return {"type": "object", "description": node.description}
    if isinstance(node, spec.Sequence):
        out = {"type": "array", "description": node.description, "items": _node(node.item),
               "minItems": node.min_items}
        if node.max_items is not None:
            out["maxItems"] = node.max_items
        return out
    if isinstance(node, spec.Map):
        return {"type": "object", "description": node.description, "propertyNames": _scalar(node.key),
                "additionalProperties": _node(node.value)}
    # With two types (int or str), each keyword applies to its own: minimum to the integer,
    # pattern and maxLength to the string.
    return _scalar(node)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional key may be written with no value (`green:`), which means absent."""
    schema["type"] = [*schema["type"], "null"] if isinstance(schema["type"], list) else [schema["type"], "null"]
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    return schema


def _scalar(node: spec.Scalar) -> dict[str, Any]:
    types = [{int: "integer", str: "string", bool: "boolean"}[t]
             for t in (node.type if isinstance(node.type, tuple) else (node.type,))]
    out: dict[str, Any] = {"type": types[0] if len(types) == 1 else types, "description": node.description}
    for key, value in [("enum", list(node.enum) or None), ("pattern", node.pattern), ("minimum", node.minimum),
                       ("maximum", node.maximum), ("maxLength", node.max_length), ("default", node.default)]:
        if value is not None:
            out[key] = value
    return out
