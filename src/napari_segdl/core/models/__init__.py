"""Segmentation networks, built by name from the registry.

Looking up an architecture imports nothing heavy; Keras loads when a network is built.
"""

from __future__ import annotations

from importlib import import_module

from ..backend import load_keras
from ..errors import SegDLError

#: name -> (module, factory function)
_REGISTRY = {"unet": ("unet", "build_unet"), "segnet": ("segnet", "build_segnet")}
ARCHITECTURES = tuple(_REGISTRY)


def _check(arch: str) -> None:
    if arch not in _REGISTRY:
        raise SegDLError(
            f"Unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}."
        )


def build_model(arch: str, input_channels: int, num_classes: int, **params):
    """Build the network ``arch`` (see ``ARCHITECTURES``) with its keyword parameters."""
    _check(arch)
    load_keras()
    module, factory = _REGISTRY[arch]
    return getattr(import_module(f".{module}", __name__), factory)(
        input_channels=input_channels, num_classes=num_classes, **params
    )


def size_multiple(arch: str, depth: int) -> int:
    """Height and width of the network's input must be multiples of this number."""
    _check(arch)
    return 2**depth


def custom_objects() -> dict:
    """The custom layers a saved network may contain (SegNet's pooling), for loading it."""
    from .pooling import CUSTOM_OBJECTS

    return dict(CUSTOM_OBJECTS)
