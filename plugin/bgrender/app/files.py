"""An app's files: reading them without leaving its repository, and writing them back safely.

Argo CD runs the plugin on whatever anyone pushed (argocd-cmp-contract §8): a path may be
absolute, climb with "..", go through a symlink, or name a FIFO that would block a plain
open() forever. Everything read goes through read_app_bytes, confined to a Boundary
(app/repository.py: the repository, else the app directory). The edit commands write
through write_files, atomically and only over the bytes they read, one command at a time,
and never through a symlink that leads out of that boundary.
"""

from __future__ import annotations

import os
import stat

from bgrender import TYPE_CHECKING
from bgrender.app.repository import Boundary, app_directory
from bgrender.errors import BgRenderError, InvalidInput, Problem, escape, line_column
from bgrender.record import Record

if TYPE_CHECKING:
    from collections.abc import Callable

# A bluegreen.yaml is ~2 KiB and a base Deployment rarely passes 20 KiB. 1 MiB is far
# beyond any real file and keeps a hostile one from costing memory and time.
MAX_FILE_BYTES = 1024 * 1024


def read_app_file(root: str | os.PathLike[str], rel: str, shown: str, within: Boundary | None = None) -> str:
    """Text of `root/rel`, which must resolve (".." and symlinks too) to a regular file inside
    `within` (default: `root` itself).

    `shown` is how messages name the file. Raises InvalidInput with a single problem.
    """
    raw = read_app_bytes(root, rel, shown, within=within)
    assert raw is not None  # not missing_ok: an absent file raises
    return decode_text(raw, shown)


def shown_beside(intent_file: str, rel: str) -> str:
    """A file bluegreen.yaml names, as messages name it: relative to where bgrender was run,
    like bluegreen.yaml itself."""
    return os.path.normpath(os.path.join(os.path.dirname(intent_file), rel))


def read_named_file(root: str, rel: str, shown: str, naming: Callable[[str], Problem],
                    within: Boundary | None = None) -> str:
    """read_app_file; a file that cannot be read has no position of its own, so its problem
    is put where bluegreen.yaml names it (`naming`: the message -> a problem at that line)."""
    try:
        return read_app_file(root, rel, shown, within)
    except InvalidInput as err:
        short = escape(shown if len(shown) <= 120 else shown[:120] + "...")
        raise InvalidInput([p if p.line else naming(f"{short}: {p.message}") for p in err.problems]) from err


def read_app_bytes(root: str | os.PathLike[str], rel: str, shown: str, *, missing_ok: bool = False,
                   within: Boundary | None = None) -> bytes | None:
    """Bytes of `root/rel`, checked like read_app_file; None if it is absent and `missing_ok`."""
    target = confined(root, rel, shown, within)
    try:
        return _read_regular_file(target)
    except FileNotFoundError as err:
        if missing_ok:
            return None
        raise _fail(shown, "file not found") from err
    except IsADirectoryError as err:
        raise _fail(shown, "is a directory, not a file") from err
    except OSError as err:
        raise _fail(shown, f"cannot be read: {err.strerror or err}") from err


def confined(root: str | os.PathLike[str], rel: str, shown: str, within: Boundary | None = None) -> str:
    """The real path `root/rel` resolves to, which must lie inside `within` (default: `root`);
    checked before anything is opened, so a refusal says nothing about what lies outside."""
    real_root = os.path.realpath(root)
    within = within or app_directory(real_root)
    target = os.path.realpath(os.path.join(real_root, rel))
    if not within.holds(target):
        lexical = os.path.normpath(os.path.join(real_root, rel))
        how = "(through a symlink) to" if within.holds(lexical) else '(through "..") to'
        raise _fail(shown, f"resolves {how} a path outside {within.name}")
    return target


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


BOM = b"\xef\xbb\xbf"


def decode_text(raw: bytes, shown: str) -> str:
    """UTF-8 (a BOM is dropped), CRLF accepted; a bad byte is reported with its position."""
    if raw.startswith(BOM):
        raw = raw[len(BOM):]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        before = raw[: err.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        message = f"not valid UTF-8 (byte 0x{raw[err.start]:02x})"
        raise InvalidInput([Problem(shown, line, column, "", message)]) from err
    if "\x00" in text:
        line, column = line_column(text, text.index("\x00"))
        raise InvalidInput([Problem(shown, line, column, "", "contains a NUL byte; is this a binary file?")])
    return text


def _fail(shown: str, message: str) -> InvalidInput:
    return InvalidInput([Problem(shown, 0, 0, "", message)])


# --- writing ----------------------------------------------------------------------------------


# How long an edit command waits for another one editing the same app; an edit takes well under
# a second, so a longer wait means a hung process.
EDIT_LOCK_SECONDS = 60.0


class EditLocked(BgRenderError):
    """Another edit of the app held it for too long."""


class WriteFailed(BgRenderError):
    """A file could not be written, or changed under us; nothing was written after that point."""


class FileChange(Record):
    """Replace `path`, which held `old` when it was read (None: it did not exist), with `new`
    (None: remove it; only to undo the creation of a file)."""

    path: str
    old: bytes | None
    new: bytes | None
    within: Boundary | None = None  # where `path` must still resolve to when it is written


class EditLock:
    """Serializes the edit commands of one app: held from the first read to the last write, so
    two concurrent `release`/`promote` runs cannot both read the same text and lose a change.
    flock on the directory itself leaves no lock file behind in the user's checkout; the kernel
    drops it when its holder exits. A holder that hangs is waited for `timeout` seconds at most:
    `waiting` is called once, when the lock is busy, so the command can say what it waits for;
    then EditLocked."""

    def __init__(self, app_dir: str, timeout: float = EDIT_LOCK_SECONDS, waiting: Callable[[], None] | None = None):
        self.app_dir, self.timeout, self.waiting = app_dir, timeout, waiting
        self.fd = -1

    def __enter__(self) -> EditLock:
        import fcntl
        import time

        self.fd = os.open(self.app_dir, os.O_RDONLY | os.O_DIRECTORY)
        end, pause = time.monotonic() + self.timeout, 0.01
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if pause == 0.01 and self.waiting is not None:
                    self.waiting()
                if time.monotonic() >= end:
                    os.close(self.fd)
                    raise EditLocked(f"{escape(self.app_dir)}: another bgrender edit has held this app for "
                                     f"{self.timeout:g} s; if no release, promote or rollback of it is running, "
                                     "its process is hung: end it and run the command again") from None
                time.sleep(pause)  # a lock held by another process gives no event to wait on
                pause = min(pause * 2, 0.5)

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)  # closing releases the lock


def write_files(changes: list[FileChange]) -> None:
    """Write each change in order, atomically, each only over the exact bytes it was read as
    (a compare-and-swap against editors and tools that do not take the edit lock). If one
    fails, the ones before it are undone, so the files stay as they were, together."""
    done: list[FileChange] = []
    for change in changes:
        try:
            _write(change)
        except OSError as err:
            undone = undo_files(done)
            raise WriteFailed(f"{change.path}: cannot write: {err.strerror or err}; "
                              + ("no file was changed" if undone else "the files it came with could not be put back")
                              ) from err
        except WriteFailed:
            undo_files(done)
            raise
        done.append(change)


def _write(change: FileChange) -> None:
    target = os.path.realpath(change.path)  # write through a symlink, not over it
    if change.within is not None and not change.within.holds(target):  # swapped since it was read
        raise WriteFailed(f"{escape(change.path)}: now resolves (through a symlink) to a path outside "
                          f"{change.within.name}; nothing written")
    current = _current_bytes(target)
    if current != change.old:
        raise WriteFailed(f"{change.path}: changed on disk during the edit; nothing written, run again")
    if change.new is None:
        os.unlink(target)
    else:
        _replace_file(target, change.new, stat.S_IMODE(os.stat(target).st_mode) if current is not None else _new_mode())


def undo_files(done: list[FileChange]) -> bool:
    """Put back files that write_files wrote, last first; False if that failed too."""
    try:
        for change in reversed(done):
            _write(FileChange(change.path, change.new, change.old, change.within))
    except (OSError, WriteFailed):
        return False
    return True


def _new_mode() -> int:
    """The mode open() would give a new file: 0666 less the umask."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _temporary_file(directory: str, name: str) -> tuple[int, str]:
    """A new file beside `name`, only the owner's, as tempfile.mkstemp makes one (whose
    import, with random's, costs a tenth of an edit)."""
    for _ in range(100):
        path = os.path.join(directory, f".{name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {os.path.join(directory, name)}")


def _current_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as file:
            return file.read()
    except FileNotFoundError:
        return None


def _replace_file(target: str, data: bytes, mode: int) -> None:
    directory, name = os.path.split(target)
    fd, temporary = _temporary_file(directory, name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    try:  # make the rename durable; some file systems cannot (contextlib.suppress costs an import)
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
