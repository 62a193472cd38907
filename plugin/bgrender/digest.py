"""Canonical JSON, and sha256 over it: the lock's digests and the ConfigMaps' hashed names.

A render computes them for every color of a lock and every ConfigMap, so neither imports json
(~3 ms) nor hashlib (~4 ms of OpenSSL set-up): json's C encoder and CPython's own sha256 do
the same work. Pure.
"""

from __future__ import annotations

import sys

from bgrender import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any


def canonical_json(data: Any) -> str:
    """`json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`, byte for
    byte (a test holds them equal), for the plain values YAML loads."""
    if _ENCODER is None:  # pragma: no cover - a Python without json's C accelerator
        import json

        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "".join(_ENCODER(data, 0))


def sha256_hex(data: bytes) -> str:
    return _sha256(data).hexdigest()


def _not_plain(value: Any) -> Any:
    raise TypeError(f"not a plain value: {type(value).__name__}")


try:  # the C encoder json.dumps runs for those arguments
    from _json import encode_basestring, make_encoder
except ImportError:  # pragma: no cover - a Python without json's C accelerator
    _ENCODER = None
else:  # no circular-reference markers: loaded YAML holds no cycles
    _ENCODER = make_encoder(None, _not_plain, encode_basestring, None, ":", ",", True, False, True)

try:  # CPython's own sha256 (a module that is not there costs a search of every sys.path entry)
    if sys.version_info >= (3, 12):
        from _sha2 import sha256 as _sha256
    else:
        from _sha256 import sha256 as _sha256
except ImportError:  # pragma: no cover - another interpreter
    from hashlib import sha256 as _sha256
