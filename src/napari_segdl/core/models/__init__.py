"""Segmentation networks, built by name from the registry."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import SegDLError

ARCHITECTURES = ("unet",)


def _factory(arch: str) -> Callable:
    if arch == "unet":
        from .unet import build_unet

        return build_unet
    raise SegDLError(f"Unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}.")


def build_model(arch: str, input_channels: int, num_classes: int, **params):
    """Build the network ``arch`` (see ``ARCHITECTURES``) with its keyword parameters."""
    return _factory(arch)(input_channels=input_channels, num_classes=num_classes, **params)


def size_multiple(arch: str, depth: int) -> int:
    """Height and width of the network's input must be multiples of this number."""
    _factory(arch)
    return 2**depth
