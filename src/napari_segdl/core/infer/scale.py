"""What prediction does to an image before the network: a resize so that its objects match the
size the model learned (``scale``, or cellpose's ``diameter`` idea), then the model's recipe."""

from __future__ import annotations

import numpy as np

from ..bundle import SegModel
from ..errors import SegDLError
from ..preprocess import Recipe, Step

#: Largest image, after scaling, predicted in memory (pixels): Pillow's decompression-bomb
#: limit, as for reading; larger scaled images are refused with advice.
MAX_SCALED_PIXELS = 178_956_970


def scale_for(model: SegModel, scale: float | None, diameter: float | None) -> float | None:
    """The resize factor from ``scale`` or from an object ``diameter`` in pixels (the model's
    median training object diameter over it); when neither is given, the scale the model was
    adapted to (:func:`~napari_segdl.core.train.adapt.adapt`), else None."""
    if scale is not None and diameter is not None:
        raise SegDLError("Give a scale or an object diameter, not both.")
    if scale is None and diameter is None:
        scale = model.info.postprocessing.scale
    if diameter is not None:
        trained = model.info.postprocessing.object_diameter
        if not trained:
            raise SegDLError(
                "This model does not record the size of the objects it learned (instance models "
                "trained by napari-segdl 0.2 or later do): give a scale instead of a diameter."
            )
        if not float(diameter) > 0:
            raise SegDLError(f"diameter must be a number of pixels > 0; received {diameter!r}.")
        return float(trained) / float(diameter)
    if scale is not None and not (float(scale) > 0 and np.isfinite(float(scale))):
        raise SegDLError(f"scale must be a number > 0; received {scale!r}.")
    if scale is not None and not 0.01 <= float(scale) <= 100:
        raise SegDLError(f"scale must be between 0.01 and 100; received {scale!r}.")
    return None if scale is None or float(scale) == 1.0 else float(scale)


class ObjectSizeWarning(UserWarning):
    """The objects found are far outside the size range the model learned."""


def size_advice(model: SegModel, labels: np.ndarray, name: str) -> str | None:
    """Advice to predict ``name`` again at the learned size when the median diameter of the
    objects an instance model found in it (``labels``, at the image's size) lies outside the
    range of the objects it learned; None when it lies inside, or nothing was found."""
    recorded = model.info.postprocessing
    sizes = recorded.sizes
    if model.class_map.mode != "instance" or sizes is None or not np.any(labels):
        return None
    from ..labels.instances import object_diameter

    found = object_diameter([np.asarray(labels)])
    if sizes[0] <= found <= sizes[1]:
        return None
    small = found < sizes[0]
    learned = (
        f"{'smaller' if small else 'larger'} than the {sizes[0]:.0f}-{sizes[1]:.0f} pixels "
        "of the objects the model learned"
    )
    if not recorded.diameter_range:  # a bundle that records the median only
        relation = "under half" if small else "over twice"
        median = f"{recorded.object_diameter:.0f} pixels"
        learned = f"{relation} the {median} the model learned (its median)"
    return (
        f"{name}: its objects measure about {found:.0f} pixels across, {learned}: predict "
        f"again with diameter {found:.0f} (--diameter, the Predict dock's diameter), which "
        "resizes the image so that its objects match them."
    )


def input_recipe(model: SegModel, preprocess: bool, scale: float | None) -> Recipe:
    """The steps applied to a raw image: the resize by ``scale``, then the model's recipe."""
    steps = [Step("resize", {"factor": scale})] if scale is not None else []
    if preprocess:
        steps += Recipe.coerce(model.info.recipe or None).steps
    return Recipe(steps)


def check_scaled_size(model: SegModel, yx: tuple[int, int], scale: float | None, name: str):
    """Refuse a scale that makes the image smaller than the network's input grid, or too large."""
    if scale is None:
        return
    height, width = (max(1, round(n * scale)) for n in yx)
    grid = model.geometry.size_multiple
    if min(height, width) < grid:
        raise SegDLError(
            f"scale {scale:g} makes {name} {height} x {width} pixels, smaller than one network "
            f"input ({grid} x {grid}); use a scale of at least {grid / min(yx):.3g}."
        )
    if height * width > MAX_SCALED_PIXELS:
        raise SegDLError(
            f"scale {scale:g} makes {name} {height} x {width} pixels, above the "
            f"{MAX_SCALED_PIXELS / 1e6:.0f}-megapixel limit of prediction in memory; use a "
            "smaller scale, or open the image lazily (dask, zarr) to predict it chunk by chunk."
        )
