"""Writing files safely: output folders checked before any work, files written atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import SegDLError


def writable_folder(folder: str | os.PathLike, what: str, advice: str = "") -> Path:
    """``folder``, created if needed, after writing and removing a probe file in it."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".write-test-")
        os.close(handle)
        os.remove(probe)
    except OSError as error:
        raise SegDLError(
            f"Cannot write {what} to '{folder}': {error.strerror or error}. Choose a folder "
            f"you can write to{advice}."
        ) from error
    return folder


@contextmanager
def atomic_write(path: str | os.PathLike, what: str = "the file") -> Iterator[Path]:
    """Write ``path`` all at once: yields a temporary path beside it, renamed into place when
    the block ends; on any failure the temporary file is removed and ``path`` is untouched.

    The temporary name keeps the suffix (writers choose formats by it) and starts with a dot.
    An ``OSError`` becomes a :class:`SegDLError` naming ``what`` and the path.
    """
    path = Path(path)
    try:
        handle, name = tempfile.mkstemp(
            suffix=path.suffix, prefix=f".{path.stem}-", dir=path.parent
        )
    except OSError as error:
        raise SegDLError(f"Cannot write {what} to '{path}': {error.strerror or error}.") from error
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        if temp.is_file():  # mkstemp makes it private: give it the permissions of a new file
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except OSError as error:
        raise SegDLError(f"Cannot write {what} to '{path}': {error.strerror or error}.") from error
    finally:
        if temp.exists():
            if temp.is_dir():
                shutil.rmtree(temp, ignore_errors=True)
            else:
                temp.unlink()
