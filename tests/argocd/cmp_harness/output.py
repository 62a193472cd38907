"""What Argo CD makes of a plugin's stdout: kube.SplitYAML, then unstructured objects.

A JSON stream when the first non-blank character (within 4096 bytes) is `{`, else a YAML
stream; empty and null documents dropped; every object needs a kind; *List kinds flattened.
Empty output is success with no objects, which is why a plugin must never produce it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import yaml

from .errors import CmpError

JSON_SNIFF_BYTES = 4096  # apimachinery's YAMLOrJSONDecoder buffer
MAX_MANIFEST_BYTES = 100 * 1024 * 1024  # ARGOCD_GRPC_MAX_SIZE_MB default


def parse_manifests(stdout: bytes) -> list[dict[str, Any]]:
    """kube.SplitYAML then unstructured: YAML or JSON stream, kind required, Lists flattened."""
    if len(stdout) > MAX_MANIFEST_BYTES:
        raise CmpError("grpc: received message larger than max")
    text = stdout.decode("utf-8")
    text = text[:-1] if text.endswith("\n") else text
    documents = _json_stream(text) if _looks_like_json(text) else None
    if documents is None:
        documents = _yaml_stream(text)
    objects: list[dict[str, Any]] = []
    for document in documents:
        if document is None:
            continue
        if not isinstance(document, dict) or not document.get("kind"):
            raise CmpError(f"failed to convert CMP manifests to unstructured objects: "
                           f"Object 'Kind' is missing in '{json.dumps(document)[:200]}'")
        objects.extend(_flatten(document))
    return objects


def _looks_like_json(text: str) -> bool:
    head = text.encode("utf-8")[:JSON_SNIFF_BYTES].decode("utf-8", "ignore").lstrip()
    return head.startswith("{")


def _json_stream(text: str) -> list[Any] | None:
    """Concatenated JSON objects; None (use YAML) if the 1st or 2nd object fails to decode."""
    decoder = json.JSONDecoder()
    documents: list[Any] = []
    position = 0
    while True:
        position = _skip_space(text, position)
        if position == len(text):
            return documents
        try:
            document, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as err:
            if len(documents) < 2:
                return None
            raise CmpError(f"failed to unmarshal manifest: {err}") from err
        documents.append(document)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _yaml_stream(text: str) -> list[Any]:
    try:
        return list(yaml.safe_load_all(text))
    except yaml.YAMLError as err:
        raise CmpError(f"failed to unmarshal manifest: {err}") from err


def _flatten(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if obj["kind"].endswith("List") and "items" in obj:
        for item in obj["items"] or ():
            yield from _flatten(item)
    else:
        yield obj
