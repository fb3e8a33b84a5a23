"""Prediction options: one schema for the API, the CLI and the Predict dock.

Every option is a field of :class:`PredictOptions` whose metadata (:class:`~..schema.Spec`)
carries its label, help, range and what None means; ``napari-segdl predict``'s flags and the
Predict dock's widgets are generated from these fields, so an option is declared once, here.
Values are checked when the options are made; what depends on the model (a threshold for a
two-class model, levels for an instance model, a tile larger than the network's overlap) is
checked once by :meth:`PredictOptions.check_for`, before any image is read.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from ..errors import SegDLError
from ..schema import check_value, group
from ..stacks import has_channels
from .runners import ALIASES, ENGINES, check_engine, resolve

_where, _objects, _outputs = group("where"), group("objects"), group("outputs")


def _level(label: str, help: str, high: float = 0.99, step: float = 0.05, metavar="LEVEL"):
    """An instance model's post-processing level (its tuned one when None)."""
    return _objects(
        None, float, label, help, low=0.01, high=high, step=step, none_text="as tuned",
        metavar=metavar, advanced=True,
    )  # fmt: skip


@dataclass(frozen=True)
class PredictOptions:
    """How to predict; see :func:`parameters` for the fields, their defaults and ranges."""

    tile: int | None = _where(
        None,
        int,
        "tile",
        "Largest tile side in pixels; bigger images are predicted in seamless overlapping "
        "tiles that blend. Automatic: from the free memory.",
        low=1,
        high=65536,
        step=64,
        none_text="automatic",
    )
    engine: str = _where(
        "auto",
        str,
        "engine",
        "What runs the network: auto = OpenVINO (float32) when installed and the image has a "
        "megapixel or more, else Keras (on TensorFlow or PyTorch); openvino-bf16 is about "
        "twice as fast on CPUs with bfloat16, probabilities within about 1e-2.",
        choices=ENGINES,
        advanced=True,
    )
    threshold: float | None = _objects(
        None,
        float,
        "threshold",
        "Models of two classes: the second class where its probability is at least this. "
        "None: the most probable class.",
        low=0.01,
        high=0.99,
        step=0.05,
        none_text="none",
    )
    scale: float | None = _objects(
        None,
        float,
        "scale",
        "Resize the image by this factor before the network, so that its objects match the "
        "size the model learned (0.5: objects twice as large); the masks come back at the "
        "image's size.",
        low=0.01,
        high=100.0,
        step=0.05,
        none_text="as trained",
    )
    diameter: float | None = _objects(
        None,
        float,
        "diameter",
        "Instance models: the objects' diameter in pixels; the image is scaled so that they "
        "match the objects the model learned (instead of a scale).",
        low=1.0,
        high=100000.0,
        step=1.0,
        none_text="as trained",
        metavar="PIXELS",
        advanced=True,
    )
    seed_level: float | None = _level(
        "seed level",
        "Instance models: object interiors above this seed objects (lower: fewer merges, more "
        "splits). The model's own level was tuned on its validation data.",
    )
    extent_level: float | None = _level(
        "extent level",
        "Instance models: pixels whose foreground probability is above this belong to an "
        "object (lower: larger objects).",
    )
    flow_error: float | None = _level(
        "flow check",
        "Flow-head models: objects whose predicted flows differ from their own shape's by more "
        "than this (mean squared difference) are dropped, cellpose's flow threshold (higher: "
        "more objects kept). The model's own level was tuned on its validation data.",
        high=4.0,
        step=0.1,
        metavar="ERROR",
    )
    link_slices: float | None = _objects(
        None,
        float,
        "link slices (IoU)",
        "Instance models on stacks: objects of neighbouring slices that overlap by at least "
        "this IoU become one object, with one ID through the stack.",
        low=0.01,
        high=1.0,
        step=0.05,
        none_text="off",
        metavar="IOU",
        advanced=True,
    )
    tta: bool = _objects(
        False,
        bool,
        "test-time augmentation (8 flips, slower)",
        "Average the predictions of the 8 flips and quarter turns: smoother, 8 times slower.",
    )
    probabilities: bool = _outputs(
        False,
        bool,
        "probability maps",
        "The class probabilities too (Y, X, K): image layers in the viewer, <stem>_probabilities "
        "files; the Python API's predict returns them instead of the labels.",
    )
    uncertainty: bool = _outputs(
        False,
        bool,
        "uncertainty: a layer, and where to correct first",
        "The entropy of the class probabilities (0 to 1) as '<image> uncertainty' (files: "
        "<stem>_uncertainty), and in the viewer the least certain objects and regions.",
        api=False,
    )
    channel_axis: int | None = _where(
        None,
        int,
        "channel axis",
        "The image's channel axis when it is not the last one (0 for (C, Y, X)).",
        low=-8,
        high=8,
        none_text="last",
        metavar="AXIS",
        dock=False,
    )
    scheduler: str | None = _where(
        None,
        str,
        "scheduler",
        "The address of a dask.distributed scheduler (tcp://host:8786): the prediction runs "
        "chunk by chunk on that cluster.",
        none_text="none (this machine)",
        metavar="ADDRESS",
        dock=False,
    )
    allow_code: bool = _where(
        False,
        bool,
        "allow code",
        "Model Zoo packages: run pytorch_state_dict weights, whose network is Python code from "
        "the package (only for packages you trust).",
        dock=False,
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "engine", ALIASES.get(self.engine, self.engine))
        for item in fields(self):
            check_value(item, getattr(self, item.name))
        if self.scale is not None and self.diameter is not None:
            raise SegDLError("Give a scale or an object diameter, not both.")
        check_engine(self.engine)

    @classmethod
    def of(cls, options: PredictOptions | None = None, **changes) -> PredictOptions:
        """``options`` (or the defaults) with ``changes``; an unknown name is refused."""
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(
                f"Unknown prediction option(s) {', '.join(unknown)}; the options are "
                f"{', '.join(sorted(known))}."
            )
        return replace(options or cls(), **changes)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def levels(self) -> dict | None:
        """The post-processing levels given (None when neither)."""
        given = {
            "seed": self.seed_level,
            "extent": self.extent_level,
            "flow_error": self.flow_error,
        }
        return {key: value for key, value in given.items() if value is not None} or None

    def check_for(self, model) -> PredictOptions:
        """Refuse what this model cannot do with these options, before any image is read."""
        from .engine import check_levels, check_threshold
        from .scale import scale_for
        from .tiles import check_tile

        check_threshold(model, self.threshold)
        check_levels(model, self.levels)
        check_tile(self.tile, model.geometry)
        if model.geometry.dims == 3:
            for option in ("scale", "diameter", "link_slices"):
                if getattr(self, option) is not None:
                    why = "its objects are 3D already" if option == "link_slices" else "resizing is 2D"  # fmt: skip
                    raise SegDLError(f"{option} is for 2D models ({why}); this is a 3D model.")
        else:
            scale_for(model, self.scale, self.diameter)
        if self.link_slices is not None and model.class_map.mode != "instance":
            raise SegDLError(
                f"Linking slices is for instance models; this is {model.class_map.mode}."
            )
        return self

    def resolved(self, model, image) -> PredictOptions:
        """These options with the engine that will run on ``image`` (``auto`` decided by its
        pixels, channels not counted): the engine recorded is the engine that runs."""
        if self.engine != "auto":
            return self
        shape = list(np.shape(image))  # np.shape: no FutureWarning from dask, unlike np.size
        if self.channel_axis is not None and -len(shape) <= self.channel_axis < len(shape):
            shape.append(shape.pop(self.channel_axis))
        spatial = shape[:-1] if has_channels(tuple(shape), model.info.channels) else shape
        return replace(self, engine=resolve("auto", math.prod(spatial)))


def parameters() -> list:
    """The options, in the order the CLI's help and the dock show them."""
    return list(fields(PredictOptions))
