"""Importing Keras safely inside a GUI process.

On Linux, Mesa's OpenGL drivers (software rendering, AMD) load ``libLLVM`` into the
process when napari opens its canvas. TensorFlow links its own LLVM, and importing it
afterwards resolves LLVM symbols to Mesa's copy and crashes in a static initialiser.
Loading TensorFlow's libraries with ``RTLD_DEEPBIND`` makes them bind to their own
symbols first. Set ``NAPARI_SEGDL_DEEPBIND=0`` to import TensorFlow plainly.
"""

from __future__ import annotations

import importlib.util
import os
import sys


def _wants_tensorflow() -> bool:
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    return backend == "tensorflow" and importlib.util.find_spec("tensorflow") is not None


def load_keras():
    """Import and return ``keras``, loading TensorFlow with ``RTLD_DEEPBIND`` on Linux."""
    if (
        "tensorflow" not in sys.modules
        and sys.platform.startswith("linux")
        and hasattr(os, "RTLD_DEEPBIND")
        and os.environ.get("NAPARI_SEGDL_DEEPBIND", "1") != "0"
        and _wants_tensorflow()
    ):
        flags = sys.getdlopenflags()
        sys.setdlopenflags(flags | os.RTLD_DEEPBIND)
        try:
            import tensorflow  # noqa: F401
        finally:
            sys.setdlopenflags(flags)
    import keras

    return keras
