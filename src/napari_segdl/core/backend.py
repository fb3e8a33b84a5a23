"""Importing Keras safely inside a GUI process.

On Linux, Mesa's OpenGL drivers (software rendering, AMD) load ``libLLVM`` into the
process when napari opens its canvas, and TensorFlow carries its own LLVM. Two copies
of LLVM in one process crash unless each binds only to itself: TensorFlow imported
after the canvas crashed in a static initialiser, and a canvas opened after TensorFlow
crashed at exit (``free(): invalid pointer`` in ``llvm::cl::opt``), because TensorFlow
loads its core library with ``RTLD_GLOBAL`` and Mesa's LLVM then bound to its symbols.

So TensorFlow's libraries are loaded with ``RTLD_DEEPBIND`` (they prefer their own
symbols) and without ``RTLD_GLOBAL`` (nothing else binds to them). Set
``NAPARI_SEGDL_DEEPBIND=0`` to import TensorFlow plainly.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types

#: TensorFlow asks this module for the dlopen flags of its core library.
_TF_FLAGS_MODULE = "tensorflow.python.pywrap_dlopen_global_flags"


def _local_dlopen_flags_module(flags: int) -> types.ModuleType:
    """A stand-in for TensorFlow's flags module: deep-bound, never global."""
    module = types.ModuleType(_TF_FLAGS_MODULE)
    module.set_dlopen_flags = lambda: sys.setdlopenflags(flags | os.RTLD_DEEPBIND)
    module.reset_dlopen_flags = lambda: sys.setdlopenflags(flags)
    return module


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
        sys.modules.setdefault(_TF_FLAGS_MODULE, _local_dlopen_flags_module(flags))
        sys.setdlopenflags(flags | os.RTLD_DEEPBIND)
        try:
            import tensorflow  # noqa: F401
        finally:
            sys.setdlopenflags(flags)
    import keras

    return keras


def gpu_names() -> list[str]:
    """The names of the GPUs the Keras backend can train on (empty on a CPU-only machine)."""
    keras = load_keras()
    backend = keras.backend.backend()
    names = []
    if backend == "tensorflow":
        import tensorflow as tf

        for gpu in tf.config.list_physical_devices("GPU"):
            names.append(
                tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
            )
    elif backend == "jax":
        import jax

        names = [device.device_kind for device in jax.devices() if device.platform == "gpu"]
    elif backend == "torch":
        import torch

        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return names


def describe_devices() -> str:
    """Which device trains: ``"GPU: <name>"`` or ``"CPU only"`` with a pointer to GPU help."""
    names = gpu_names()
    if names:
        return "GPU: " + ", ".join(names)
    return "CPU only (for an NVIDIA GPU: pip install 'napari-segdl[gpu]'; see docs/install.md)"
