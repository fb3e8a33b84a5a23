"""The Preprocess dock's work and layout helpers: applying a recipe to layers in a worker,
and placing a (resized) result over its source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import napari
import numpy as np
from napari.qt.threading import thread_worker

from ..core.errors import SegDLError
from ..core.preprocess import Recipe, Step, preprocess
from ._common import Ended, outcome


@thread_worker
def preview_worker(data, recipe, channels, name):
    """The preview of one slice: an :class:`~._common.Ended`."""
    return outcome(preprocess, data, recipe, channels=channels, name=name)


@dataclass(frozen=True)
class Preprocessed:
    """One layer's result with the recipe that made it, or the bad input it was (``error``)."""

    layer: Any
    result: Any
    recipe: Recipe
    error: SegDLError | None = None


@thread_worker
def apply_worker(jobs: list[tuple[Any, Recipe]]):
    """Apply each (layer, recipe) in turn, yielding :class:`Preprocessed`; returns an
    :class:`~._common.Ended` (a layer's bad input is in its event: the others go on)."""
    for layer, recipe in jobs:
        labels = isinstance(layer, napari.layers.Labels)
        name = f"{'labels' if labels else 'image'} layer '{layer.name}'"
        try:
            channels = getattr(layer, "rgb", False)
            result = preprocess(layer.data, recipe, channels=channels, labels=labels, name=name)
        except SegDLError as error:
            yield Preprocessed(layer, None, recipe, error)
            continue
        yield Preprocessed(layer, result, recipe)
    return Ended("completed")


def describe(step: Step) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in step.params.items() if v is not None)
    return f"{step.operation.title}" + (f" ({shown})" if shown else "")


def placement(layer, result, spatial: int) -> dict:
    """rgb, scale and translate under which ``result`` overlays ``layer``.

    ``spatial`` is the number of non-channel axes of what was processed (2 for a slice);
    resized pixels get a bigger scale, so the result lies over the source.
    """
    channels = result.ndim > spatial
    rgb = channels and result.shape[-1] in (3, 4)
    old = np.asarray(layer.scale[-spatial:], dtype=float)
    scale = old.copy()
    raw_yx = np.asarray(
        layer.data.shape[:-1] if getattr(layer, "rgb", False) else layer.data.shape
    )
    new_yx = np.asarray(result.shape[:-1] if channels else result.shape)
    scale[-2:] *= raw_yx[-2:] / new_yx[-2:]
    # pixel edges, not centres, line up: napari puts pixel centres at index * scale + translate
    translate = np.asarray(layer.translate[-spatial:], dtype=float) + (scale - old) / 2
    if channels and not rgb:  # a channel axis napari shows with a slider
        scale, translate = np.append(scale, 1.0), np.append(translate, 0.0)
    return {"rgb": rgb, "scale": tuple(scale), "translate": tuple(translate)}
