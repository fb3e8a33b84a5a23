"""Jobs for the worker-process tests: importable by name in the spawned child."""

import os
import time

from napari_segdl.core.errors import SegDLError
from napari_segdl.core.worker import child


def count(n):
    """Events 0..n-1, then the child's pid."""
    yield from range(n)
    return os.getpid()


def bad_input(message):
    raise SegDLError(message)


def bug():
    return {}["missing key"]


def until_stopped():
    """Wait for Stop; returns how many polls it took."""
    polls = 0
    yield "started"
    while not child.stop_requested():
        polls += 1
        time.sleep(0.01)
    return polls


def echo_latest(key):
    """The newest item the viewer sent under ``key`` once one came."""
    yield "started"
    while (value := child.latest(key)) is None:
        time.sleep(0.01)
    return value


def started_then_sleep(seconds):
    yield os.getpid()
    time.sleep(seconds)


def segfault():
    """Crash in native code, as a faulty driver or library would."""
    import ctypes

    ctypes.string_at(0)


def broken_import():
    import napari_segdl_not_installed  # noqa: F401


def dies_saying(text):
    """Write to standard error and leave at once, as a library failing in native code does."""
    import sys

    sys.stderr.write(text + "\n")
    sys.stderr.flush()
    os._exit(3)


def temporary_folder():
    import tempfile

    return tempfile.gettempdir()
