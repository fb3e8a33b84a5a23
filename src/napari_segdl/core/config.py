"""Training hyper-parameters, validated before any work starts."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .errors import SegDLError
from .labels import check_mode
from .models import ARCHITECTURES, size_multiple

#: Training losses: masked cross-entropy, or with a soft Dice term added.
LOSSES = ("crossentropy", "crossentropy+dice")
#: float16 computation: on GPUs only ("auto"), always, or never.
MIXED_PRECISION = ("auto", "on", "off")
#: How several devices share training (see ``core.distribute``).
DISTRIBUTE = ("auto", "none", "mirrored", "multi-worker")


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run (stored in the model bundle).

    Attributes
    ----------
    mode : {"dense", "sparse", "instance"}
        Label mode (DESIGN.md).
    arch : {"unet", "segnet"}
        Network architecture.
    epochs : int
        Most epochs to train; early stopping or ``max_time`` may end sooner.
    patch, batch : int
        Patch side in pixels (a multiple of ``2**depth``) and patches per step.
    filters, depth : int
        Filters of the first level and number of poolings (2-5).
    batch_norm, dropout :
        Batch normalisation after each convolution; dropout rate at the bottleneck.
    lr : float
        Adam learning rate.
    val_fraction : float
        Share of labelled blocks held out for validation (0 to 0.5).
    max_time : float or None
        Stop after this many seconds, keeping the best weights so far.
    seed : int
        Seed of weights, validation split and patch sampling.
    patience : int or None
        Early stopping: epochs without improvement of the validation IoU (or the
        training loss without validation) before training ends; None never stops early.
    steps_per_epoch : int or None
        Steps in one epoch; by default enough patches to cover the images about twice.
    augment : bool
        Random flips and 90° rotations of the patches.
    augment_intensity : bool
        Random contrast, brightness, gamma and noise of the image patches.
    augment_deform : bool
        Small random affine and elastic deformations, identical for image and labels.
    class_weights : {"none", "auto"}
        "auto": weigh the cross-entropy by median class frequency, so rare classes count.
    loss : {"crossentropy", "crossentropy+dice"}
        Add a soft Dice term to the masked cross-entropy.
    checkpoint_dir : str or None
        Write the best model so far to a new ``.keras`` file in this folder after every better
        epoch (atomically), so a crash loses at most the epochs since.
    jit_compile : bool or "auto"
        XLA compilation of the training step (Keras' ``compile(jit_compile=...)``).
    mixed_precision : {"auto", "on", "off"}
        float16 computation with float32 weights and outputs; "auto" uses it on GPUs only.
    distribute : {"auto", "none", "mirrored", "multi-worker"}
        Several devices training one model (see :mod:`napari_segdl.core.distribute`): "auto"
        uses all GPUs of the machine when there are two or more.
    """

    mode: str = "dense"
    arch: str = "unet"
    epochs: int = 50
    patch: int = 256
    batch: int = 8
    filters: int = 32
    depth: int = 4
    batch_norm: bool = True
    dropout: float = 0.0
    lr: float = 1e-3
    val_fraction: float = 0.1
    max_time: float | None = None
    seed: int = 0
    patience: int | None = 10
    steps_per_epoch: int | None = None
    augment: bool = True
    augment_intensity: bool = False
    augment_deform: bool = False
    class_weights: str = "none"
    loss: str = "crossentropy"
    checkpoint_dir: str | None = None
    jit_compile: bool | str = "auto"
    mixed_precision: str = "auto"
    distribute: str = "auto"

    def __post_init__(self):
        check_mode(self.mode)
        if self.arch not in ARCHITECTURES:
            raise SegDLError(f"Unknown architecture {self.arch!r}; choose one of {ARCHITECTURES}.")
        for name, low in [("epochs", 1), ("batch", 1), ("filters", 1), ("depth", 2)]:
            _check_at_least(name, getattr(self, name), low)
        if self.depth > 5:
            raise SegDLError(f"depth must be between 2 and 5; received {self.depth}.")
        multiple = size_multiple(self.arch, self.depth)
        _check_at_least("patch", self.patch, multiple)
        if self.patch % multiple:
            lower = self.patch // multiple * multiple
            raise SegDLError(
                f"patch {self.patch} is not a multiple of 2**depth = {multiple} (depth "
                f"{self.depth}); use {lower} or {lower + multiple}."
            )
        if not self.lr > 0:
            raise SegDLError(f"lr (learning rate) must be > 0; received {self.lr}.")
        if not 0 <= self.val_fraction <= 0.5:
            raise SegDLError(
                f"val_fraction must be between 0 and 0.5; received {self.val_fraction}."
            )
        if self.max_time is not None and not self.max_time > 0:
            raise SegDLError(
                f"max_time must be a number of seconds > 0; received {self.max_time}."
            )
        if self.patience is not None:
            _check_at_least("patience", self.patience, 1)
        if self.steps_per_epoch is not None:
            _check_at_least("steps_per_epoch", self.steps_per_epoch, 1)
        if self.class_weights not in ("none", "auto"):
            raise SegDLError(
                f"class_weights must be 'none' or 'auto'; received {self.class_weights!r}."
            )
        if self.checkpoint_dir is not None:
            self.checkpoint_dir = str(self.checkpoint_dir)
        for name, allowed in [
            ("loss", LOSSES),
            ("mixed_precision", MIXED_PRECISION),
            ("distribute", DISTRIBUTE),
        ]:
            if getattr(self, name) not in allowed:
                raise SegDLError(
                    f"{name} must be one of {', '.join(allowed)}; received "
                    f"{getattr(self, name)!r}."
                )

    def to_dict(self) -> dict:
        return asdict(self)


def _check_at_least(name: str, value, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SegDLError(f"{name} must be an integer >= {low}; received {value!r}.")


#: Hyper-parameters that work together, by name: fast on a laptop CPU, or accurate on a GPU.
PRESETS = {
    "fast-cpu": {
        "filters": 16,
        "depth": 4,
        "patch": 256,
        "batch": 8,
        "lr": 1e-3,
        "epochs": 100,
        "max_time": 600,
    },
    "accurate-gpu": {
        "filters": 32,
        "depth": 4,
        "patch": 256,
        "batch": 16,
        "lr": 1e-3,
        "epochs": 300,
        "max_time": None,
        "class_weights": "auto",
        "loss": "crossentropy+dice",
        "augment_intensity": True,
        "augment_deform": True,
    },
}
