"""Flows: the library calls behind the ``napari-segdl`` commands (files in, files out), above
``core`` and ``io`` and below the CLI, which only parses arguments and calls one of them."""

from . import adapting, console, demo, files

__all__ = ["adapting", "console", "demo", "files"]
