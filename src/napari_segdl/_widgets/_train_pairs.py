"""The Train dock's data: the image/labels rows, the preprocessing the images share, the
checked regions, and what a run learns from the layers."""

from __future__ import annotations

import napari
import numpy as np
from magicgui.widgets import Container, PushButton, create_widget

from ..core.errors import SegDLError
from ._common import layer_recipe


class PairRow(Container):
    """One training pair: an image layer and the labels layer painted on it."""

    def __init__(self, on_remove):
        super().__init__(layout="horizontal", labels=False)
        self.image = create_widget(annotation=napari.layers.Image, name="image")
        self.labels_layer = create_widget(annotation=napari.layers.Labels, name="labels_layer")
        self.remove_button = PushButton(name="remove_button", text="−", tooltip="Remove this pair")
        self.image.tooltip = "An image (2D, RGB or a Z/T stack)."
        self.labels_layer.tooltip = "Its painted labels (same shape; stacks: painted slices)."
        self.remove_button.changed.connect(lambda: on_remove(self))
        self.extend([self.image, self.labels_layer, self.remove_button])


class PairList(Container):
    """Rows of (image, labels) pairs, with buttons to add and remove rows."""

    def __init__(self):
        super().__init__(labels=False, name="pairs")
        self.rows: list[PairRow] = []
        self.add_button = PushButton(name="add_button", text="+ add an image/labels pair")
        self.add_button.changed.connect(self.add_row)
        self.append(self.add_button)
        self.add_row()

    def add_row(self) -> PairRow:
        row = PairRow(self.remove_row)
        self.rows.append(row)
        self.insert(len(self.rows) - 1, row)
        row.reset_choices()
        self._update_removable()
        return row

    def remove_row(self, row: PairRow) -> None:
        if len(self.rows) > 1:
            self.rows.remove(row)
            self.remove(row)
            self._update_removable()

    def _update_removable(self) -> None:
        for row in self.rows:
            row.remove_button.enabled = len(self.rows) > 1

    def layers(self) -> list[tuple]:
        """The chosen (image layer, labels layer) of every row; the same pair twice is refused."""
        pairs = [(row.image.value, row.labels_layer.value) for row in self.rows]
        for image, labels in pairs:
            if image is None or labels is None:
                raise SegDLError(
                    "Choose an image layer and a labels layer in every row (remove empty rows)."
                )
        names = [(i.name, lab.name) for i, lab in pairs]
        for pair in names:
            if names.count(pair) > 1:
                raise SegDLError(
                    f"Image layer '{pair[0]}' with labels layer '{pair[1]}' is chosen twice; "
                    "remove one of the rows."
                )
        return pairs


def shared_recipe(image_layers) -> dict | None:
    """The preprocessing all the images went through (the model learns it, for raw images)."""
    recipes = [layer_recipe(layer) for layer in image_layers]
    if any(recipe != recipes[0] for recipe in recipes):
        names = ", ".join(f"'{layer.name}'" for layer in image_layers)
        raise SegDLError(
            f"The image layers {names} went through different preprocessing; train on "
            "images made with the same recipe (or all raw)."
        )
    return recipes[0]


def checked_regions(shapes, pairs) -> list[np.ndarray] | None:
    """For each (image, labels) pair, the pixels inside the shapes of ``shapes`` (a Shapes
    layer drawn on the labels' grid; 2D shapes cover every slice of a stack), or None."""
    if shapes is None:
        return None
    regions = []
    for _, labels in pairs:
        shape = labels.data.shape
        flat = shapes.ndim == 2 and len(shape) > 2
        masks = shapes.to_masks(mask_shape=shape[-2:] if flat else shape)
        mask = np.asarray(masks).any(axis=0) if len(masks) else np.zeros(shape[-2:], bool)
        regions.append(np.broadcast_to(mask, shape) if flat else mask)
    return regions


def run_options(pairs, config) -> dict:
    """What :func:`iter_training` learns from the layers: their names, and for a 3D network
    the first image's scale as the voxel spacing (z, y, x)."""
    sources = [(f"image layer '{i.name}'", f"labels layer '{lab.name}'") for i, lab in pairs]
    image = pairs[0][0]
    spacing = tuple(float(s) for s in image.scale[-3:]) if config.dims == 3 else None
    return {"sources": sources, "spacing": spacing}
