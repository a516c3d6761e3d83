"""Output paths checked before any work, written whole or not at all, and all of one command's outputs together or none.

Every output is written to a temporary path beside its target
(`.NAME.XXXXXXXX.part`, on the same file system) and renamed onto the target
only at the end. The command line runs each command inside one
`transaction()`: every `atomic_path` and `staged_folder` inside it is
committed together when the command finishes (or at `commit()`, just before
the command says what it wrote), and all of them are removed, with any
folder the transaction made, when it fails, is interrupted or is terminated.
Outside a transaction, `atomic_path` commits its one file on its own.

Files and folders are created with the user's umask, like any other tool's
(mkstemp alone would make every output 0600).
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import os
import shutil
import signal
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from catcore.errors import CatnetError, WriteFailed

RESULT_SUFFIXES = (".png", ".json")  # what a result folder of catnet's holds: it may be replaced whole
DESKTOP_LITTER = (".DS_Store", "Thumbs.db", "desktop.ini")  # what file browsers leave in a folder someone looked at
NAME_MAX = 255  # bytes in one path component on Linux, macOS and Windows file systems
_STAGING_EXTRA = len(".") + len(".") + 8 + len(".part")  # what mkstemp's prefix and suffix add to a name

_ACTIVE: contextvars.ContextVar[Transaction | None] = contextvars.ContextVar("catnet_outputs", default=None)


def _umask() -> int:
    """The process's umask; it can only be read by setting it, so it is read each time, not cached."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """What open() would have made: 0o666 less the umask."""
    return 0o666 & ~_umask()


def folder_mode() -> int:
    """What mkdir would have made: 0o777 less the umask."""
    return 0o777 & ~_umask()


@dataclass
class _Staged:
    temporary: Path
    target: Path
    folder: bool


@dataclass
class Transaction:
    """One command's outputs: staged beside their targets, then all renamed into place, or all removed."""

    _staged: list[_Staged] = field(default_factory=list)
    _made: list[Path] = field(default_factory=list)  # folders made to hold outputs, outermost first: removed on failure
    _owned: list[Path] = field(default_factory=list)  # new folders written in place (new_folder): removed whole on failure

    def file(self, path: str | os.PathLike) -> Path:
        """A new temporary file beside `path` that becomes `path` at commit."""
        path = Path(path)
        self.make_folders(path.parent)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        os.close(fd)
        os.chmod(temporary, file_mode())
        self._staged.append(_Staged(Path(temporary), path, folder=False))
        return Path(temporary)

    def folder(self, path: str | os.PathLike) -> Path:
        """A new temporary folder beside `path` that replaces `path` whole at commit (an earlier one is removed then).

        A `path` that is a link to a folder stands for that folder: the folder is replaced, the link stays.
        """
        path = Path(path)
        if path.is_symlink():
            path = path.resolve()
        self.make_folders(path.parent)
        temporary = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent))
        os.chmod(temporary, folder_mode())
        self._staged.append(_Staged(temporary, path, folder=True))
        return temporary

    def new_folder(self, parent: str | os.PathLike, stem: str) -> Path:
        """Make parent/stem (stem-2, stem-3, ... if taken) now, empty; it is removed again if the transaction fails.

        Made at once, exclusively, so that two runs started in the same second get two folders.
        """
        parent = Path(parent)
        self.make_folders(parent)
        for attempt in range(1, 1000):
            candidate = parent / (stem if attempt == 1 else f"{stem}-{attempt}")
            try:
                candidate.mkdir()
            except FileExistsError:
                continue
            self._owned.append(candidate)
            return candidate
        raise WriteFailed(f"too many folders named {stem} in {parent}")

    def make_folders(self, folder: Path) -> None:
        """mkdir -p, remembering every folder made so that a failure takes it away again."""
        missing = []
        while not folder.exists():
            if folder.is_symlink():  # a dangling link: mkdir would fail with a confusing EEXIST
                raise FileNotFoundError(errno.ENOENT, "a link to nowhere", str(folder))
            missing.append(folder)
            if folder.parent == folder:
                break
            folder = folder.parent
        for made in reversed(missing):
            made.mkdir()
            self._made.append(made)

    def holds(self, path: Path) -> bool:
        """Whether `path` lies inside a folder this transaction stages or made: that folder is the unit written whole."""
        folders = [s.temporary for s in self._staged if s.folder] + self._owned
        return any(folder in path.parents for folder in folders)

    def commit(self) -> None:
        """Rename every staged output onto its target, the last staged first (files inside a staged folder before it)."""
        try:
            with _signals_held():  # Ctrl-C or SIGTERM between two renames would leave half the outputs new
                while self._staged:
                    _install(self._staged[-1])
                    self._staged.pop()
        except OSError as exc:
            target = self._staged[-1].target
            self.discard()
            raise WriteFailed(f"cannot put {target} in place: {_reason(exc)}") from None
        self._made.clear()
        self._owned.clear()

    def discard(self) -> None:
        """Remove every staged output and every folder made for them; targets are left as they were."""
        with _signals_held():  # a second Ctrl-C or SIGTERM waits until the clean-up is done
            self._remove_all()

    def _remove_all(self) -> None:
        for staged in self._staged:
            if staged.folder:
                shutil.rmtree(staged.temporary, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    staged.temporary.unlink()
        self._staged.clear()
        for owned in reversed(self._owned):
            shutil.rmtree(owned, ignore_errors=True)  # made empty by this transaction: it holds only its outputs
        self._owned.clear()
        for made in reversed(self._made):
            with contextlib.suppress(OSError):
                made.rmdir()  # only if empty: someone else may have put something there meanwhile
        self._made.clear()


@contextlib.contextmanager
def _signals_held():
    held = {signal.SIGINT, signal.SIGTERM} | ({signal.SIGHUP} if hasattr(signal, "SIGHUP") else set())
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _install(staged: _Staged) -> None:
    if not staged.folder:
        os.replace(staged.temporary, staged.target)
        return
    try:
        os.replace(staged.temporary, staged.target)  # no folder there, or an empty one: replaced in one step
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
        # an earlier result folder: moved aside (onto a fresh empty folder, which rename may replace), then removed
        old = Path(tempfile.mkdtemp(prefix=f".{staged.target.name}.", suffix=".old", dir=staged.target.parent))
        os.replace(staged.target, old)
        os.replace(staged.temporary, staged.target)
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def transaction():
    """Run a block whose outputs are committed together at its end, or all removed if it raises."""
    outputs = Transaction()
    token = _ACTIVE.set(outputs)
    try:
        yield outputs
        outputs.commit()
    except BaseException:
        outputs.discard()
        raise
    finally:
        _ACTIVE.reset(token)


def commit() -> None:
    """Put the current transaction's outputs in place now (a command does so right before it reports them)."""
    active = _ACTIVE.get()
    if active is not None:
        active.commit()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside `path`; it becomes `path` when the transaction commits (at once, outside one).

    Inside a folder the transaction stages or made, the path itself is yielded: that whole folder is the unit.
    An OSError while writing (a full disk) becomes a one-line WriteFailed naming `path`.
    """
    path = Path(path)
    active = _ACTIVE.get()
    try:
        if active is not None and active.holds(path):
            yield path
        elif active is not None:
            yield active.file(path)
        else:
            with transaction() as alone:
                yield alone.file(path)
    except CatnetError:
        raise
    except OSError as exc:
        raise WriteFailed(f"cannot write {path}: {_reason(exc)}") from None


def staged_folder(path: str | os.PathLike) -> Path:
    """A temporary folder to fill; it replaces the folder `path` whole when the current transaction commits."""
    active = _ACTIVE.get()
    if active is None:
        raise RuntimeError("staged_folder needs a transaction (catnet's command line opens one per command)")
    try:
        return active.folder(path)
    except OSError as exc:
        raise WriteFailed(f"cannot write {path}: {_reason(exc)}") from None


def new_folder(parent: str | os.PathLike, stem: str) -> Path:
    """parent/stem (or stem-2, ...), made now; removed again if the current transaction fails."""
    active = _ACTIVE.get()
    try:
        if active is not None:
            return active.new_folder(parent, stem)
        with transaction() as alone:
            return alone.new_folder(parent, stem)
    except CatnetError:
        raise
    except OSError as exc:
        raise WriteFailed(f"cannot create a folder in {parent}: {_reason(exc)}") from None


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


# --- checks before any work


def check_output_file(flag: str, path: str | os.PathLike | None, *suffixes: str) -> Path | None:
    """Before any work: `path` (given for `flag`) ends in one of `suffixes`, is no folder or device, and can be written."""
    if path is None or str(path) == "":
        return None
    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise CatnetError(f"{flag} expects a {' or '.join(suffixes)} path, got {str(path)!r}")
    _check_name(flag, path)
    mode = _stat(flag, path)
    if mode is not None and stat.S_ISDIR(mode):
        raise CatnetError(f"{flag} {path} is a folder; give the path of a file to write")
    if mode is not None and not stat.S_ISREG(mode):
        raise CatnetError(f"{flag} {path} is not a regular file (a device, pipe or socket); give the path of a file to write")
    check_folder_can_be_made("output folder", path.parent)
    return path


def check_output_folder(flag: str, path: str | os.PathLike, replaceable: tuple[str, ...] = RESULT_SUFFIXES) -> Path:
    """Before any work: the folder `path` can be made, or holds only an earlier result (files ending in `replaceable`).

    Such a folder is filled elsewhere and put in place whole at the end (`staged_folder`), so the files of two
    runs never mix; a folder holding anything else (subfolders, other files: `--out .`, say) is refused, never emptied.
    """
    path = Path(path)
    _check_name(flag, path)
    mode = _stat(flag, path)
    if mode is not None:
        if not stat.S_ISDIR(mode):
            raise CatnetError(f"cannot create output folder {path} ({flag}): it is a file, not a folder")
        if _holds_current_folder(path):
            raise CatnetError(f"{flag} {path} holds the current folder; catnet replaces {flag} whole, give a folder of its own")
        try:
            foreign = [entry.name for entry in os.scandir(path) if not _replaceable(entry, replaceable)]
        except OSError as exc:
            raise CatnetError(f"{flag} {path}: {_reason(exc)}") from None
        if foreign:
            raise CatnetError(
                f"{flag} {path} holds {', '.join(repr(n) for n in sorted(foreign)[:3])}{' ...' if len(foreign) > 3 else ''}, "
                f"not only an earlier result ({', '.join(replaceable)} files); catnet replaces {flag} whole, "
                "so give a new or empty folder"
            )
    check_folder_can_be_made("output folder", path.parent)
    return path


def check_folder(flag: str, path: str | os.PathLike | None) -> Path | None:
    """Before any work: a folder that outputs are added to (a --logdir, unroll's --out) is writable or can be made."""
    if path is None or str(path) == "":
        return None
    path = Path(path)
    _check_name(flag, path)
    mode = _stat(flag, path)
    if mode is not None and not stat.S_ISDIR(mode):
        raise CatnetError(f"cannot create output folder {path} ({flag}): it is a file, not a folder")
    check_folder_can_be_made("output folder", path)
    return path


def check_folder_can_be_made(what: str, folder: Path) -> None:
    """`folder` is a writable folder, or the nearest existing folder above it is one (nothing is made here)."""
    folder = Path(folder) if str(folder) else Path(".")
    existing = folder
    while True:
        try:
            mode = os.stat(existing).st_mode
            break
        except FileNotFoundError:
            if existing.parent == existing:
                raise CatnetError(f"cannot create {what} {folder}: no such file system") from None
            existing = existing.parent
        except NotADirectoryError:
            existing = existing.parent
        except OSError as exc:
            raise CatnetError(f"cannot create {what} {folder}: {_reason(exc)}") from None
    if not stat.S_ISDIR(mode):
        raise CatnetError(f"cannot create {what} {folder}: {existing} is a file")
    try:  # a real file, made and removed: os.access says yes to root on /proc and to a full quota alike
        fd, probe = tempfile.mkstemp(prefix=".catnet-probe.", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise CatnetError((f"{what} {existing} is not writable" if existing == folder
                           else f"cannot create {what} {folder}: {existing} is not writable")
                          + f" ({_reason(exc)})") from None


def _holds_current_folder(path: Path) -> bool:
    try:
        here = Path.cwd().resolve()
    except OSError:  # the current folder was removed: nothing can hold it
        return False
    resolved = path.resolve()
    return resolved == here or resolved in here.parents


def _stat(flag: str, path: Path) -> int | None:
    """The mode of what `path` names (links followed), None when nothing is there."""
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None  # a file where a folder should be: check_folder_can_be_made names it
    except OSError as exc:
        raise CatnetError(f"{flag} {path}: {_reason(exc)}") from None


def _check_name(flag: str, path: Path) -> None:
    if len(os.fsencode(path.name)) + _STAGING_EXTRA > NAME_MAX:
        raise CatnetError(f"{flag}: the name {path.name[:40]!r}... is too long ({len(os.fsencode(path.name))} bytes)")


def _replaceable(entry: os.DirEntry, suffixes: tuple[str, ...]) -> bool:
    name = entry.name
    return entry.is_file(follow_symlinks=False) and (
        Path(name).suffix.lower() in suffixes or (name.startswith(".") and name.endswith(".part"))
        or name in DESKTOP_LITTER
    )
