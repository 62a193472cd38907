"""Paths written in bluegreen.yaml: which may be used at all. app/files.py confines what they
resolve to when it reads them."""

from __future__ import annotations


def unsafe_path_reason(rel: str) -> str | None:
    """Why a path written in bluegreen.yaml may not be used, or None when it may.

    POSIX rules, as the sidecar reads the repository on Linux: "a:deployment.yaml" and
    "a\\b.yaml" are ordinary relative names there, not a drive and a separator. Whatever a
    path says, read_app_file still confines what it resolves to."""
    if not rel:
        return "must not be empty"
    if "\x00" in rel:
        return "must not contain NUL bytes"
    if rel.startswith("/"):
        return "must be relative to the directory of bluegreen.yaml, not absolute"
    if ".." in rel.split("/"):
        return 'must not contain ".."'
    return None
