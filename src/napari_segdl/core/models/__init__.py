"""Segmentation networks, built by name from the registry.

Looking up an architecture imports nothing heavy; Keras loads when a network is built.
"""

from __future__ import annotations

from importlib import import_module

from ..backend import load_keras
from ..errors import SegDLError
from .geometry import Geometry, encoder_decoder

__all__ = [
    "ARCHITECTURES",
    "Geometry",
    "build_model",
    "check_patch",
    "custom_objects",
    "geometry",
]

#: name -> (module, factory function, geometry from the factory's parameters)
_REGISTRY = {
    "unet": ("unet", "build_unet", encoder_decoder),
    "segnet": ("segnet", "build_segnet", encoder_decoder),
}
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
    module, factory, _ = _REGISTRY[arch]
    return getattr(import_module(f".{module}", __name__), factory)(
        input_channels=input_channels, num_classes=num_classes, **params
    )


def geometry(arch: str, params: dict) -> Geometry:
    """The input grid, receptive margin and prediction memory of ``arch`` with ``params``."""
    _check(arch)
    return _REGISTRY[arch][2](**params)


def custom_objects() -> dict:
    """The custom layers a saved network may contain (SegNet's pooling), for loading it."""
    from .pooling import CUSTOM_OBJECTS

    return dict(CUSTOM_OBJECTS)


def check_patch(patch: int, arch: str, arch_params: dict) -> None:
    """The patch side must be a multiple of the network's size multiple (and at least one)."""
    multiple = geometry(arch, arch_params).size_multiple
    if patch < multiple or patch % multiple:
        lower = max(multiple, patch // multiple * multiple)
        depth = arch_params.get("depth")
        raise SegDLError(
            f"patch {patch} is not a multiple of 2**depth = {multiple} (depth {depth}); use "
            f"{lower} or {lower + multiple}."
        )
