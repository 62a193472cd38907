"""The names bgrender gives the objects it makes: the one place each is made, for the render,
the reads of a live cluster and the messages.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.labels import MAX_DNS_LABEL

if TYPE_CHECKING:
    from bgrender.colors import Color

_HASH_CHARS = 8


def color_deployment(base_name: str, color: Color) -> str:
    """A color's Deployment, and its HPA and PodDisruptionBudget: "<base name>-<color>"."""
    return f"{base_name}-{color}"


def color_service(service_name: str, color: Color) -> str:
    """A color's own Service: "<service>-<color>", for previews, smoke tests and backends."""
    return f"{service_name}-{color}"


def hook_job(app: str, purpose: str) -> str:
    """A hook Job of the app, "<app>-<purpose>" (e.g. "smoke-test"), a valid DNS label."""
    return bounded_name(app, "-" + purpose)


def bounded_name(stem: str, suffix: str, limit: int = MAX_DNS_LABEL) -> str:
    """`stem + suffix` (a name bgrender makes, e.g. "<app>-smoke-test"), within `limit`
    characters whatever the stem's length: a stem too long is cut and followed by a hash of
    itself, so the name stays a valid DNS label, stable across renders and distinct per stem."""
    if len(stem) + len(suffix) <= limit:
        return stem + suffix
    import hashlib  # only for names that need cutting

    digest = hashlib.sha256(stem.encode()).hexdigest()[:_HASH_CHARS]
    cut = stem[: limit - len(suffix) - _HASH_CHARS - 1].rstrip("-.")
    return f"{cut}-{digest}{suffix}"
