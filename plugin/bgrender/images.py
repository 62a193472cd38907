"""Image references: the repository of an image, and the image a color runs. The one place
that knows how a tag or a digest is written onto an image."""

from __future__ import annotations

from bgrender import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any


def image_repository(image: Any) -> str | None:
    """"reg:5000/app:1.2@sha256:..." -> "reg:5000/app"."""
    if not isinstance(image, str):
        return None
    image = image.split("@", 1)[0]
    slash = image.rfind("/")
    colon = image.rfind(":")
    return image[:colon] if colon > slash else image


def image_reference(image: str, version: str) -> str:
    """The image a color runs: `image:tag`, or `image@sha256:...` for a digest."""
    return f"{image}@{version}" if version.startswith("sha256:") else f"{image}:{version}"
