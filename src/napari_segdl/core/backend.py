"""Choosing Keras' backend and importing Keras safely inside a GUI process.

The backend (TensorFlow, PyTorch or JAX) is chosen once per process, before Keras loads:
``NAPARI_SEGDL_BACKEND``, else Keras' own ``KERAS_BACKEND``, else Keras' configuration file,
else TensorFlow (:func:`wanted_backend`). :func:`choose_backend` checks the choice (its package
installed, Keras not loaded on another) and the CLI's ``--backend`` and the Train dock's
worker process use it. Models are saved as Keras files that every backend loads.

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
import json
import os
import sys
import types
from pathlib import Path

from .errors import SegDLError

#: Set to 1 to see TensorFlow's own start-up and log lines.
VERBOSE_ENV = "NAPARI_SEGDL_VERBOSE"
#: Chooses the Keras backend of napari-segdl's processes (wins over ``KERAS_BACKEND``).
BACKEND_ENV = "NAPARI_SEGDL_BACKEND"
#: The Keras backends, each with the module it needs and how to install it.
BACKENDS = {
    "tensorflow": ("tensorflow", "pip install tensorflow (the default backend)"),
    "torch": ("torch", "pip install 'napari-segdl[torch]' (docs/install.md: CPU-only or CUDA)"),
    "jax": ("jax", "pip install jax (docs/install.md)"),
}
#: The frameworks' own names, for the device line.
FRAMEWORKS = {"tensorflow": "TensorFlow", "torch": "PyTorch", "jax": "JAX"}


def wanted_backend() -> str:
    """The backend this process runs Keras on: the one loaded, else ``NAPARI_SEGDL_BACKEND``,
    else ``KERAS_BACKEND``, else Keras' configuration file, else "tensorflow"."""
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        return keras.backend.backend()
    name = os.environ.get(BACKEND_ENV) or os.environ.get("KERAS_BACKEND")
    if not name:
        home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
        try:
            name = json.loads((home / "keras.json").read_text()).get("backend")
        except (OSError, ValueError, AttributeError):
            name = None
    return name or "tensorflow"


def apply_backend_setting() -> None:
    """``NAPARI_SEGDL_BACKEND`` handed to Keras (``KERAS_BACKEND``) while Keras is not loaded,
    so that a Keras imported later runs on it too; nothing is imported or checked here."""
    name = os.environ.get(BACKEND_ENV)
    if name in BACKENDS and "keras" not in sys.modules:  # an unknown name: refused on use
        os.environ["KERAS_BACKEND"] = name


def choose_backend(name: str | None = None) -> str:
    """Make ``name`` (None: :func:`wanted_backend`) the Keras backend of this process; refused
    when unknown, not installed, or when Keras already runs on another backend here."""
    name = name or wanted_backend()
    if name not in BACKENDS:
        raise SegDLError(f"Unknown backend {name!r}; choose one of {', '.join(BACKENDS)}.")
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend") and keras.backend.backend() != name:
        raise SegDLError(
            f"Keras already runs on {keras.backend.backend()} in this process, and its backend "
            f"is chosen before it loads: start again with {BACKEND_ENV}={name}."
        )
    module, install = BACKENDS[name]
    if importlib.util.find_spec(module) is None:
        raise SegDLError(f"The {name} backend needs {FRAMEWORKS[name]}, not installed: {install}.")
    os.environ["KERAS_BACKEND"] = name
    return name


def installed_backends() -> list[str]:
    """The backends whose framework is installed, TensorFlow first."""
    return [name for name, (module, _) in BACKENDS.items() if importlib.util.find_spec(module)]


#: TensorFlow asks this module for the dlopen flags of its core library.
_TF_FLAGS_MODULE = "tensorflow.python.pywrap_dlopen_global_flags"


def _local_dlopen_flags_module(flags: int) -> types.ModuleType:
    """A stand-in for TensorFlow's flags module: deep-bound, never global."""
    module = types.ModuleType(_TF_FLAGS_MODULE)
    module.set_dlopen_flags = lambda: sys.setdlopenflags(flags | os.RTLD_DEEPBIND)
    module.reset_dlopen_flags = lambda: sys.setdlopenflags(flags)
    return module


def _wants_tensorflow() -> bool:
    return os.environ.get("KERAS_BACKEND") == "tensorflow"


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
    """Import and return ``keras`` on the backend of :func:`choose_backend`, loading TensorFlow
    quietly, with ``RTLD_DEEPBIND`` on Linux."""
    if "keras" not in sys.modules:
        choose_backend()
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
    """The names of the GPUs the Keras backend can train on (empty on a CPU-only machine); an
    Apple GPU under PyTorch is "Apple GPU (MPS)"."""
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
        if not names and torch.backends.mps.is_available():
            names = [MPS_NAME]
    return names


#: What :func:`gpu_names` calls an Apple GPU that PyTorch runs on (Metal Performance Shaders).
MPS_NAME = "Apple GPU (MPS)"


def gpu_prefers_bfloat16() -> bool:
    """True when the GPU computes bfloat16 as fast as float16 and needs no loss scaling: CUDA
    GPUs of compute capability 8 (Ampere) on, under TensorFlow or PyTorch."""
    backend = load_keras().backend.backend()
    if backend == "torch":
        import torch

        return torch.cuda.is_available() and torch.cuda.get_device_capability(0) >= (8, 0)
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        details = tf.config.experimental.get_device_details(gpus[0]) if gpus else {}
        return tuple(details.get("compute_capability", (0, 0))) >= (8, 0)
    return False


def describe_devices() -> str:
    """Which device trains, and on which framework: ``"GPU: <name> (PyTorch)"``, or
    ``"CPU only (TensorFlow; …)"`` with a pointer to GPU help."""
    backend = load_keras().backend.backend()
    framework = FRAMEWORKS.get(backend, backend)
    names = gpu_names()
    if names == [MPS_NAME]:
        return f"GPU: {MPS_NAME[:-6]} ({framework}, MPS)"
    if names:
        return "GPU: " + ", ".join(names) + f" ({framework}{', CUDA' * (backend == 'torch')})"
    gpu = {
        "tensorflow": "pip install 'napari-segdl[gpu]'",
        "torch": "a CUDA build of PyTorch",
        "jax": "pip install 'jax[cuda12]'",
    }.get(backend, "see its framework's install guide")
    return f"CPU only ({framework}; for an NVIDIA GPU: {gpu}; see docs/install.md)"


def backend_line() -> str:
    """The backend this process runs Keras on, with the versions, without importing either:
    ``"Keras 3.15.1 on torch (PyTorch 2.13.0)"``."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(*distributions: str) -> str | None:
        for distribution in distributions:
            with contextlib.suppress(PackageNotFoundError):
                return version(distribution)
        return None

    name = wanted_backend()
    module = BACKENDS.get(name, (name, ""))[0]
    found = installed(module, f"{module}-cpu")  # tensorflow-cpu is TensorFlow too
    framework = FRAMEWORKS.get(name, name) + (f" {found}" if found else ", not installed")
    return f"Keras {installed('keras') or '(not installed)'} on {name} ({framework})"
