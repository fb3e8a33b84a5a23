"""How a worker child starts and how its end is told: its own ``__main__``, its standard error
in a file from its first line on, and the words for the way it ended."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import types
from pathlib import Path

#: The child's standard error, in its folder: its tail says why a child died.
STDERR_NAME = "stderr.log"


@contextlib.contextmanager
def main_module_hidden():
    """Start ``spawn`` children that do not run the parent's ``__main__`` again.

    ``spawn`` re-imports the parent's main module in the child (by path, or by name under
    ``python -m``), so a viewer made at module level in a script, in ``python -m``, or by the
    ``napari`` command would be made again in the child, which then never serves a job (and
    fails with multiprocessing's "bootstrapping phase" error if the script trains). The jobs
    never live in ``__main__``, so while a child starts ``__main__`` is an empty module: the
    child runs napari_segdl's code only. The parent's module is back when :meth:`start` returns.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


@contextlib.contextmanager
def stderr_to(path: Path):
    """Give a child started meanwhile ``path`` as its standard error, from its first line on
    (its interpreter's start and imports included). The parent's own standard error is back
    when the child has started (a few milliseconds)."""
    if sys.stderr is not None:  # None under pythonw
        sys.stderr.flush()
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    saved = os.dup(2)
    try:
        os.dup2(log, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(log)


def stderr_tail(folder, lines: int = 3, chars: int = 400) -> str:
    """The last non-empty ``lines`` the child wrote to its standard error, on one line."""
    try:
        text = (Path(folder) / STDERR_NAME).read_text(errors="replace")
    except OSError:
        return ""
    last = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(last)[-chars:]


def death_message(exitcode: int | None, ended: bool, last_words: str = "") -> str:
    """How the child ended, in words (with the tail of its standard error, when it wrote)."""
    if ended:
        return "The worker process was ended on request"
    said = f" (it wrote: {last_words})" if last_words else ""
    if exitcode is not None and exitcode < 0:
        number = -exitcode
        name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
        why = {
            "SIGKILL": "killed (SIGKILL: out of memory, or ended from outside)",
            "SIGSEGV": "crashed in native code (SIGSEGV)",
            "SIGABRT": "aborted in native code (SIGABRT)",
            "SIGBUS": "crashed in native code (SIGBUS)",
            "SIGTERM": "terminated (SIGTERM)",
        }.get(name, f"ended by signal {name}")
        if name in ("SIGKILL", "SIGTERM"):  # from outside: what it wrote last is not why
            said = ""
        return f"The worker process was {why}{said}"
    if last_words:
        return f"The worker process exited unexpectedly (exit code {exitcode}){said}"
    return (
        f"The worker process exited unexpectedly (exit code {exitcode}; it wrote nothing to "
        "its standard error)"
    )
