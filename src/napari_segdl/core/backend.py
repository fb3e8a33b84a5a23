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

TensorFlow's start-up lines (oneDNN, CUDA stubs, and on a machine without a GPU
``E0000 ... failed call to cuInit``, which reads like a failure) are kept off the terminal:
its native log level is raised and its import and device discovery run with the process's
standard error closed for a moment. Our own device line says what matters; set
``NAPARI_SEGDL_VERBOSE=1`` (``napari-segdl --verbose``) to see TensorFlow's lines again.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import types

#: Set to 1 to see TensorFlow's own start-up and log lines.
VERBOSE_ENV = "NAPARI_SEGDL_VERBOSE"

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


def verbose() -> bool:
    """True when the user asked for TensorFlow's own log lines."""
    return os.environ.get(VERBOSE_ENV, "0") not in ("", "0")


@contextlib.contextmanager
def _quiet_native_stderr():
    """Standard error of the process (file descriptor 2, where TensorFlow's C++ logs go)
    sent to /dev/null for the block, unless :func:`verbose`; Python errors still propagate."""
    if verbose():
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def load_keras():
    """Import and return ``keras``, loading TensorFlow quietly, with ``RTLD_DEEPBIND`` on Linux."""
    if "tensorflow" not in sys.modules and _wants_tensorflow():
        if not verbose():
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        with _quiet_native_stderr():
            _import_tensorflow()
    import keras

    return keras


def _import_tensorflow() -> None:
    """Import TensorFlow (deep-bound on Linux) and discover its devices."""
    deepbind = (
        sys.platform.startswith("linux")
        and hasattr(os, "RTLD_DEEPBIND")
        and os.environ.get("NAPARI_SEGDL_DEEPBIND", "1") != "0"
    )
    flags = sys.getdlopenflags()
    if deepbind:
        sys.modules.setdefault(_TF_FLAGS_MODULE, _local_dlopen_flags_module(flags))
        sys.setdlopenflags(flags | os.RTLD_DEEPBIND)
    try:
        import tensorflow as tf
    finally:
        sys.setdlopenflags(flags)
    tf.config.list_physical_devices()  # CUDA's start-up (cuInit) happens here, quietly


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
