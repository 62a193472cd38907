"""Reading the intent and the files it names, without leaving the app directory.

Argo CD runs the plugin on whatever anyone pushed (argocd-cmp-contract §8): a path may be
absolute, climb with "..", go through a symlink, or name a FIFO that would block a plain
open() forever. Everything read goes through read_app_file.
"""

from __future__ import annotations

import os
import stat

from .errors import InvalidInput, Problem

# A bluegreen.yaml is ~2 KiB and a base Deployment rarely passes 20 KiB. 1 MiB is far
# beyond any real file and keeps a hostile one from costing memory and time.
MAX_FILE_BYTES = 1024 * 1024


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


def read_app_file(root: str | os.PathLike[str], rel: str, shown: str) -> str:
    """Text of `root/rel`, which must resolve (symlinks too) to a regular file inside `root`.

    `shown` is how messages name the file. Raises InvalidInput with a single problem.
    """
    real_root = os.path.realpath(root)
    target = os.path.realpath(os.path.join(real_root, rel))
    if os.path.commonpath([real_root, target]) != real_root:
        raise _fail(shown, "resolves (through a symlink) to a path outside the app directory")
    try:
        raw = _read_regular_file(target)
    except FileNotFoundError as err:
        raise _fail(shown, "file not found") from err
    except IsADirectoryError as err:
        raise _fail(shown, "is a directory, not a file") from err
    except OSError as err:
        raise _fail(shown, f"cannot be read: {err.strerror or err}") from err
    return decode_text(raw, shown)


def _read_regular_file(path: str) -> bytes:
    _require_regular(os.stat(path).st_mode)  # opening a socket fails and a FIFO may block: look first
    # O_NONBLOCK: should the file be swapped for a FIFO after that look, open still returns at once.
    with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY), "rb") as file:
        info = os.fstat(file.fileno())
        _require_regular(info.st_mode)
        # The size is looked at first so a huge file is never read, and counted again after
        # reading (at most one byte too many) in case it grew in between.
        raw = b"" if info.st_size > MAX_FILE_BYTES else file.read(MAX_FILE_BYTES + 1)
    if info.st_size > MAX_FILE_BYTES or len(raw) > MAX_FILE_BYTES:
        raise OSError(0, f"larger than {MAX_FILE_BYTES // 1024} KiB")
    return raw


def _require_regular(mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(0, "is a directory")
    if not stat.S_ISREG(mode):
        raise OSError(0, "not a regular file (a FIFO, socket or device)")


def decode_text(raw: bytes, shown: str) -> str:
    """UTF-8 (a BOM is dropped), CRLF accepted; a bad byte is reported with its position."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        before = raw[: err.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        message = f"not valid UTF-8 (byte 0x{raw[err.start]:02x})"
        raise InvalidInput([Problem(shown, line, column, "", message)]) from err
    if "\x00" in text:
        offset = text.index("\x00")
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        raise InvalidInput([Problem(shown, line, column, "", "contains a NUL byte; is this a binary file?")])
    return text


def _fail(shown: str, message: str) -> InvalidInput:
    return InvalidInput([Problem(shown, 0, 0, "", message)])
