"""The Train dock's settings that are not training parameters (those come from the schema):
where to start, a preset, the channel axis, checkpoints, the live preview, the run data kept,
Keras' backend, and the advanced-settings toggle."""

from __future__ import annotations

import napari
from magicgui.widgets import create_widget


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
