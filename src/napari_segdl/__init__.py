"""napari-segdl: train U-Net segmentation models from painted labels, in napari or headless.

The public headless API lives here. Nothing heavy is imported at import time:
TensorFlow/Keras load on the first call that needs them. ``NAPARI_SEGDL_BACKEND`` chooses Keras'
backend from here on, for a Keras imported after this package too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .core.backend import apply_backend_setting

apply_backend_setting()

__version__ = "0.1.0"

__all__ = [
    "PredictOptions",
    "Recipe",
    "SegDLError",
    "SegModel",
    "__version__",
    "adapt",
    "evaluate",
    "export_bioimageio",
    "load_model",
    "predict",
    "preprocess",
    "settings_of",
    "train",
]

if TYPE_CHECKING:  # pragma: no cover
    from .core.bundle import SegModel, load_model
    from .core.errors import SegDLError
    from .core.evaluate.semantic import evaluate
    from .core.infer.options import PredictOptions
    from .core.interop import export_bioimageio
    from .core.interop.predicting import predict
    from .core.preprocess import Recipe, preprocess
    from .core.train.adapt import adapt
    from .core.train.api import train
    from .core.train.settings import settings_of

_LAZY = {
    "SegDLError": ".core.errors",
    "SegModel": ".core.bundle",
    "load_model": ".core.bundle",
    "evaluate": ".core.evaluate.semantic",
    "export_bioimageio": ".core.interop",
    "predict": ".core.interop.predicting",
    "preprocess": ".core.preprocess",
    "Recipe": ".core.preprocess",
    "train": ".core.train.api",
    "adapt": ".core.train.adapt",
    "PredictOptions": ".core.infer.options",
    "settings_of": ".core.train.settings",
}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
