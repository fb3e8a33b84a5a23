"""The Predict dock's options, each saying what its 0 means."""

from __future__ import annotations

from magicgui.widgets import CheckBox, ComboBox, FloatSpinBox, SpinBox, Widget

from ..core.infer.runners import ENGINES
from ._common import CHANNEL_AXES


def _spin(kind, name: str, label: str, none: str, tooltip: str, **limits) -> Widget:
    """A spin box whose 0 (its minimum) shows as ``none``: the option is not used."""
    widget = kind(name=name, label=label, value=0, tooltip=tooltip, **limits)
    widget.native.setSpecialValueText(none)
    return widget


def option_widgets() -> list[Widget]:
    """Tile, channel axis, threshold, scale, instance levels, TTA, maps and uncertainty."""
    return [
        _spin(
            SpinBox,
            "tile",
            "tile",
            "automatic",
            "Largest tile side in pixels; automatic: from the free memory. Tiles overlap by "
            "the network's receptive margin and blend seamlessly.",
            min=0,
            max=16384,
            step=64,
        ),
        ComboBox(
            name="engine",
            label="engine",
            choices=list(ENGINES),
            value="auto",
            tooltip="What runs the network: auto = OpenVINO (float32) when installed and the "
            "image has a megapixel or more, else TensorFlow; openvino-bf16 is about twice as fast "
            "on CPUs with bfloat16, probabilities within about 1e-2.",
        ),
        ComboBox(
            name="channel_axis",
            label="channel axis",
            choices=CHANNEL_AXES,
            tooltip="Where the channels of a multichannel image layer are; Z/T stacks are "
            "predicted slice by slice.",
        ),
        _spin(
            FloatSpinBox,
            "threshold",
            "threshold",
            "none (most probable class)",
            "Models of two classes: the second class where its probability is at least this.",
            min=0.0,
            max=0.99,
            step=0.05,
        ),
        _spin(
            FloatSpinBox,
            "scale",
            "scale",
            "as trained",
            "Resize the image by this factor before the network, so that its objects match "
            "the size the model learned (0.5: objects twice as large); the masks come back at "
            "the image's size.",
            min=0.0,
            max=20.0,
            step=0.05,
        ),
        _spin(
            FloatSpinBox,
            "seed_level",
            "seed level",
            "as tuned",
            "Instance models: object interiors above this seed objects (lower: fewer merges, "
            "more splits). The model's own level was tuned on its validation data.",
            min=0.0,
            max=0.95,
            step=0.05,
        ),
        _spin(
            FloatSpinBox,
            "extent_level",
            "extent level",
            "as tuned",
            "Instance models: pixels whose foreground probability is above this belong to an "
            "object (lower: larger objects).",
            min=0.0,
            max=0.95,
            step=0.05,
        ),
        _spin(
            FloatSpinBox,
            "link_slices",
            "link slices (IoU)",
            "off",
            "Instance models on stacks: objects of neighbouring slices that overlap by at least "
            "this IoU become one object, with one ID through the stack.",
            min=0.0,
            max=1.0,
            step=0.05,
        ),
        CheckBox(name="tta", text="test-time augmentation (8 flips, slower)"),
        CheckBox(name="maps", text="probability maps as image layers"),
        CheckBox(
            name="doubt",
            text="uncertainty: a layer, and where to correct first",
            tooltip="Adds '<image> uncertainty' (entropy of the class probabilities, 0 to 1) "
            "and lists the least certain objects and regions; choosing one centres the view "
            "on it.",
        ),
    ]
