"""Parts of the Train dock: the image/labels rows, the option widgets beside the schema's
(regions, preset, channel axis, checkpoints, preview, run data) and the checked regions."""

from __future__ import annotations

import napari
import numpy as np
from magicgui.widgets import Container, PushButton, create_widget

from ..core.errors import SegDLError
from ._common import displayed_slice, image_data, layer_recipe


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


class LivePreview:
    """The '<image> preview' Labels layer, predicted from the slice on screen of ``layer`` (the
    whole volume for a 3D network) in the worker process: ``send(key, (name, image))`` hands it
    the slice now on screen whenever the user moves to another one."""

    def __init__(self, viewer, layer, volume: bool, key: str, send):
        self.viewer, self.layer, self.volume = viewer, layer, volume
        self.key, self._send = key, send
        image = image_data(layer) if volume else displayed_slice(viewer, layer)
        #: What the job starts with: (key, (name, image)).
        self.first = (key, (self.name, image))
        viewer.dims.events.current_step.connect(self._follow)

    @property
    def name(self) -> str:
        return f"image layer '{self.layer.name}' (preview)"

    def _follow(self, *_) -> None:
        if self.layer in self.viewer.layers and not self.volume:
            self._send((self.key, (self.name, displayed_slice(self.viewer, self.layer))))

    def show(self, preview) -> None:
        name = f"{self.layer.name} preview"
        if name in self.viewer.layers:
            self.viewer.layers[name].data = preview.labels
        else:
            self.viewer.add_labels(
                preview.labels,
                name=name,
                scale=self.layer.scale[-preview.labels.ndim :],
                translate=self.layer.translate[-preview.labels.ndim :],
                opacity=0.5,
            )
        self.viewer.layers[name].metadata["napari_segdl"] = {"preview_epoch": preview.epoch}

    def close(self) -> None:
        self.viewer.dims.events.current_step.disconnect(self._follow)


def start_choices(_widget=None) -> list[tuple[str, str]]:
    """A new network, or a model of this session (the bundled models first; Model Zoo packages
    only predict)."""
    from ..core.interop.zoo import ZooModel
    from ._common import SESSION_MODELS

    trainable = [
        n for n in SESSION_MODELS.names() if not isinstance(SESSION_MODELS.get(n), ZooModel)
    ]
    return [("a new network", ""), *((name, name) for name in trainable)]


def option_widgets(checkpoint_dir) -> dict:
    """The dock's settings that are not training parameters: where to start, a preset, the
    channel axis, the checkpoint folder, the live preview, Keras' backend and the
    advanced-settings toggle."""
    from magicgui.widgets import CheckBox, ComboBox, FileEdit, SpinBox

    from ..core.backend import FRAMEWORKS, installed_backends, wanted_backend
    from ..core.train.presets import PRESETS
    from ..core.train.rundata import DEFAULT_CAP_MIB
    from ._common import channel_axis_combo

    return {
        "start_from": ComboBox(
            label="start from",
            choices=start_choices,
            tooltip="A new network, or a model of this session to continue on new or corrected "
            "labels (its network, label mode and classes are kept). Continuing fine-tunes: the "
            "'fine-tune' preset, an instance model adapted to the corrections first, patches of "
            "a bundled model's own training data mixed in, and the model scored first on "
            "corrected parts it does not train on: it comes back unchanged unless an epoch "
            "beats it there.",
        ),
        "regions": create_widget(
            annotation=napari.layers.Shapes,
            label="checked regions",
            options={
                "nullable": True,
                "tooltip": "Optional: a Shapes layer whose shapes mark the parts you checked or "
                "corrected; training leaves the rest of the labels out, so a partly corrected "
                "prediction does not teach its uncorrected errors back.",
            },
        ),
        "preset": ComboBox(
            label="preset",
            choices=[("custom", ""), *((name.replace("-", " "), name) for name in PRESETS)],
            tooltip="Sets the settings below to values that work together; edit them after.",
        ),
        "channel_axis": channel_axis_combo("trained"),
        "checkpoints": FileEdit(
            label="checkpoints",
            mode="d",
            value=checkpoint_dir,
            tooltip="The best model so far is written here after every better epoch; empty: "
            "no checkpoints. Continue from one with Load model file in Predict, then start from.",
        ),
        "live_preview": CheckBox(
            text="live preview of the slice on screen",
            tooltip="After every epoch, predict the first image's slice on screen into a "
            "'<image> preview' Labels layer.",
        ),
        "keep_data": SpinBox(
            label="keep run data up to (MiB)",
            value=DEFAULT_CAP_MIB,
            min=0,
            max=1024**2,
            tooltip="Each run keeps the images and labels it trained on, compressed, beside "
            "its model (the Runs dock reopens them); runs with more data than this are not kept "
            "(you are told). 0: keep none.",
        ),
        "backend": ComboBox(
            label="backend",
            choices=[
                (f"default ({wanted_backend()})", ""),
                *((FRAMEWORKS[name], name) for name in installed_backends()),
            ],
            tooltip="The framework Keras trains on, in this dock's worker process (a change "
            "starts a new one at the next run). The model is the same Keras file whichever "
            "trained it, and predicts on any of them.",
        ),
        "show_advanced": CheckBox(text="advanced settings"),
    }


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


def offer_dims(dock) -> None:
    """3D is offered when the first pair's image is a stack or a volume; a 2D image trains 2D."""
    image = dock.pairs.rows[0].image.value if dock.pairs.rows else None
    stack = image is not None and image.ndim >= 3
    if not stack and dock.dims.value == 3:
        dock.dims.value = 2
    dock.dims.enabled = stack  # its tooltip says what 3D is for


def suggest_volume_settings(dock) -> None:
    """3D chosen: depth, patch, patch depth, batch and filters chosen for the first volume and this
    machine's memory (the values the CLI and the API choose when they are not given)."""
    image = dock.pairs.rows[0].image.value if dock.pairs.rows else None
    if dock.dims.value != 3 or image is None or image.ndim < 3:
        return
    from ..core.train.memory import volume_settings

    try:
        spacing = tuple(float(s) for s in image.scale[-3:])
        shape = image.data.shape[-4:-1] if image.rgb else image.data.shape[-3:]
        _, chosen = volume_settings(dock.config(), shape, spacing)
    except SegDLError as error:
        dock.refuse(error)
        return
    for key, value in chosen.items():
        getattr(dock, key).value = value
    settings = ", ".join(f"{key} {value}" for key, value in chosen.items())
    dock.status.value = f"3D settings chosen for this volume and this machine's memory: {settings}"


def save_model(dock) -> None:
    """Save the dock's trained model to its file field (and note it in the run log)."""
    from napari.utils.notifications import show_info

    from ..core.train.runs import RunLog

    try:
        if dock.model is None:
            raise SegDLError("Train a model before saving it.")
        path = dock.model.save(dock.save_path.value)
        if dock.model_run_id is not None:
            RunLog().set_bundle(dock.model_run_id, path.resolve())
    except SegDLError as error:
        dock.refuse(error)
        return
    show_info(f"Model saved to {path}")
