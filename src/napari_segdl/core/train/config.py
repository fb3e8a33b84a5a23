"""Training parameters: one schema for the API, the CLI and the Train dock.

Every parameter is a dataclass field whose metadata (:class:`Spec`) carries its label, help,
range or choices; the default is the field's own. ``napari-segdl train``'s flags and the Train
dock's widgets are generated from these fields, so a default is written once, here.
"""

from __future__ import annotations

from dataclasses import Field, asdict, dataclass, fields

from ..errors import SegDLError
from ..labels import LABEL_MODES
from ..labels.heads import AUTO, HEADS
from ..models import ARCHITECTURES, check_patch
from ..schema import check_value, group
from .presets import PRESETS

#: Training losses: masked cross-entropy, or with a soft Dice term added.
LOSSES = ("crossentropy", "crossentropy+dice")
#: Reduced precision: where it pays (auto: GPUs, bfloat16 CPUs), float16, bfloat16 or never.
MIXED_PRECISION = ("auto", "on", "bfloat16", "off")
#: How several devices share training (see ``core.train.devices``).
DISTRIBUTE = ("auto", "none", "mirrored", "multi-worker")


_network, _training, _device = group("network"), group("training"), group("device")


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run (stored in the model bundle).

    The fields, their defaults, ranges and meaning are listed by :func:`parameters`; see
    ``docs/api.md`` for the table. Invalid values raise :class:`SegDLError` naming the
    parameter and what it takes.
    """

    # --- the network
    arch: str = _network(
        "unet",
        str,
        "network",
        "U-Net: skip connections, sharp borders. SegNet: upsampling with the encoder's pooling "
        "indices, a lighter decoder.",
        choices=ARCHITECTURES,
        choice_text=("U-Net", "SegNet"),
    )
    dims: int = _network(
        2,
        int,
        "dimensions",
        "2D: a network of images (stacks are trained and predicted slice by slice). 3D: a "
        "network of volumes (Z, Y, X), with context along z.",
        choices=(2, 3),
        choice_text=("2D", "3D"),
    )
    filters: int = _network(
        32,
        int,
        "filters",
        "Filters of the first level, doubling at each level below. 16 trains well on a CPU; "
        "32 or more on a GPU.",
        low=1,
        high=512,
        step=8,
        advanced=True,
    )
    depth: int = _network(
        4, int, "depth", "Number of 2x2 poolings (2 to 5).", low=2, high=5, advanced=True
    )
    batch_norm: bool = _network(
        True, bool, "batch norm", "Batch normalisation after every convolution.", dock=False
    )
    dropout: float = _network(
        0.0, float, "dropout", "Dropout rate at the bottleneck.", low=0.0, high=0.9, dock=False
    )
    # --- training
    mode: str = _training(
        "dense",
        str,
        "label mode",
        "dense: every pixel labelled, 0 = background. sparse: 0 = unlabelled scribbles, "
        "1..K = classes. instance: one ID per object, 0 = background; predicts separated objects.",
        choices=LABEL_MODES,
    )
    instance_head: str = _training(
        AUTO,
        str,
        "instance targets",
        "Instance mode: boundary = background / object / boundary classes; distance = those "
        "and each object's distance to its border; flow = those and flows to each object's "
        "centre, pixels grouped where they end (2D); auto = flow in 2D, boundary in 3D.",
        choices=(AUTO, *HEADS),
        advanced=True,
    )
    label_components: bool = _training(
        False,
        bool,
        "number the objects of a mask",
        "Instance mode: number the connected objects of mask labels (0/255) first, one ID each.",
        advanced=True,
    )
    epochs: int = _training(
        50,
        int,
        "epochs",
        "Most epochs to train; early stopping or the time limit may end sooner.",
        low=1,
        high=100_000,
    )
    patch: int = _training(
        256,
        int,
        "patch",
        "Side of the training patches in pixels, a multiple of 2^depth.",
        low=16,
        high=4096,
        step=16,
    )
    patch_z: int = _training(
        16, int, "patch depth", "3D: slices per training patch, on the network's z grid.",
        low=2, high=1024, step=2, advanced=True,
    )  # fmt: skip
    max_time: float | None = _training(
        None,
        float,
        "time limit (s)",
        "Stop after this many seconds, keeping the best weights so far.",
        low=1,
        high=30 * 24 * 3600,
        metavar="SECONDS",
        step=60,
        none_text="no limit",
    )
    batch: int = _training(8, int, "batch", "Patches per step.", low=1, high=1024, advanced=True)
    lr: float = _training(
        1e-3, float, "learning rate", "Adam's learning rate.",
        low=1e-6, high=1.0, step=1e-4, advanced=True,
    )  # fmt: skip
    replay: bool = _training(
        True, bool, "replay what it knew",
        "Continuing a bundled model (or one continued from it): mix in as many patches of its "
        "own training images as corrected pixels, so that it does not forget.", advanced=True,
    )  # fmt: skip
    freeze_encoder: bool = _training(
        False, bool, "keep the encoder",
        "Continuing a model: train its decoder only, keeping the encoder's weights (what it "
        "learnt to see) as they are.", advanced=True,
    )  # fmt: skip
    lr_schedule: str = _training(
        "plateau",
        str,
        "learning-rate schedule",
        "plateau: halve the learning rate after a third of the patience (at least 2 epochs) "
        "without a better validation score, so that a longer budget keeps paying; cosine: "
        "lower it along half a cosine over the epochs or the time limit; constant: keep it.",
        choices=("plateau", "cosine", "constant"),
        advanced=True,
    )
    val_fraction: float = _training(
        0.1, float, "validation share",
        "Share of the labelled blocks held out for validation (0 to 0.5).",
        low=0.0, high=0.5, step=0.05, dock=False,
    )  # fmt: skip
    seed: int = _training(
        0,
        int,
        "seed",
        "Seed of the weights, the validation split and the patch sampling.",
        low=0,
        high=2**31 - 1,
        dock=False,
    )
    patience: int | None = _training(
        10,
        int,
        "patience",
        "Early stopping: epochs without a better validation IoU (or training loss) before "
        "training ends.",
        low=1,
        high=100_000,
        none_text="never stop early",
        dock=False,
    )
    steps_per_epoch: int | None = _training(
        None,
        int,
        "steps per epoch",
        "Steps in one epoch; by default enough patches to cover the images about twice.",
        low=1,
        high=1_000_000,
        none_text="automatic",
        dock=False,
    )
    class_weights: str = _training(
        "none",
        str,
        "class weights",
        "auto: weigh the cross-entropy by median class frequency, so rare classes count.",
        choices=("none", "auto"),
        choice_text=("none", "balance rare classes"),
        advanced=True,
    )
    loss: str = _training(
        "crossentropy",
        str,
        "loss",
        "Masked cross-entropy, or with a soft Dice term added.",
        choices=LOSSES,
        advanced=True,
    )
    augment: bool = _training(
        True,
        bool,
        "flips and 90° rotations",
        "Random flips and 90° rotations of the patches.",
        advanced=True,
    )
    augment_intensity: bool = _training(
        False,
        bool,
        "intensity (contrast, gamma, noise)",
        "Random contrast, brightness, gamma and noise of the image patches.",
        advanced=True,
    )
    augment_deform: bool = _training(
        False,
        bool,
        "small affine and elastic deformations",
        "Small random affine and elastic deformations, identical for image and labels.",
        advanced=True,
    )
    checkpoint_dir: str | None = _training(
        None,
        str,
        "checkpoints",
        "Write the best model so far to a new .keras file in this folder after every better "
        "epoch (crash-safe).",
        none_text="none",
        dock=False,
    )
    # --- devices
    mixed_precision: str = _device(
        "auto",
        str,
        "mixed precision",
        "Reduced-precision computation with float32 weights and outputs. auto: float16 on "
        "GPUs, bfloat16 on CPUs with bfloat16 instructions (1.6x the patches, same quality); "
        "on: float16; bfloat16; off: never.",
        choices=MIXED_PRECISION,
        choice_text=("automatic", "float16", "bfloat16", "never"),
        advanced=True,
    )
    distribute: str = _device(
        "auto",
        str,
        "devices",
        "Several devices train one model: auto = all GPUs when there are two or more.",
        choices=DISTRIBUTE,
        dock=False,
    )
    jit_compile: bool | str = _device(
        "auto",
        object,
        "XLA",
        "XLA compilation of the training step: True, False or 'auto'.",
        choices=("auto", True, False),
        cli=False,
        dock=False,
    )

    def __post_init__(self):
        for item in fields(self):
            check_value(item, getattr(self, item.name))
        if self.checkpoint_dir is not None:
            self.checkpoint_dir = str(self.checkpoint_dir)
        check_patch(self.patch, self.arch, {"depth": self.depth, "filters": self.filters})

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def create(cls, preset: str | None = None, **params) -> TrainConfig:
        """A configuration from a preset (see :data:`PRESETS`) and parameters that override it."""
        if preset is not None and preset not in PRESETS:
            raise SegDLError(f"Unknown preset {preset!r}; choose one of {', '.join(PRESETS)}.")
        unknown = sorted(set(params) - {item.name for item in fields(cls)})
        if unknown:
            raise SegDLError(
                f"Unknown training parameter(s) {', '.join(unknown)}; the parameters are "
                f"{', '.join(item.name for item in fields(cls))}."
            )
        return cls(**{**PRESETS.get(preset, {}), **params})


def parameters() -> tuple[Field, ...]:
    """The fields of :class:`TrainConfig`, in order; ``field.metadata["spec"]`` is its Spec."""
    return fields(TrainConfig)
