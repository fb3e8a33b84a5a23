"""Typed views of what a bundle records about its model's training: the instance
post-processing (and the object size learned) and what the run found. Read by attribute
(``model.info.postprocessing.extent``, ``model.info.run.kept_start``); written back under the
keys every bundle has used, so bundles of earlier versions read as before. The settings a
model was trained with read back as a ``TrainConfig`` (:func:`~.train.settings.settings_of`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from .labels.flows import MAX_ERROR
from .labels.instances import DEFAULT_LEVELS
from .labels.objects import MIN_SIZE


@dataclass(frozen=True)
class PostProcessing:
    """How an instance model's outputs become objects, and at which size it sees them.

    ``seed`` and ``extent`` are its levels (tuned on validation data after training, or
    adapted to corrections; ``tuning`` keeps the F1 of the choice and of the defaults), and
    ``flow_error`` a flow head's flow check (tuned with them; cellpose's default before),
    ``group`` how a flow head groups its pixels (``"flows"``, or ``"classes"`` where its
    classes alone did better on validation data: after short training),
    ``min_size`` the smallest object kept (pixels), ``object_diameter`` the median diameter of
    the objects it learned and ``diameter_range`` their 5th and 95th percentiles (None for
    bundles before it: half and twice the median stand in), ``scale`` the resize it predicts
    at (adapted; None: as it is).
    """

    seed: float = DEFAULT_LEVELS["seed"]
    extent: float = DEFAULT_LEVELS["extent"]
    flow_error: float = MAX_ERROR
    group: str = "flows"
    min_size: int = MIN_SIZE
    object_diameter: float | None = None
    diameter_range: tuple[float, float] | None = None
    scale: float | None = None
    tuning: dict = field(default_factory=dict)

    @property
    def sizes(self) -> tuple[float, float] | None:
        """The range of object diameters (pixels) the model learned, or None if unknown."""
        if self.diameter_range:
            return tuple(self.diameter_range)
        return (
            (self.object_diameter / 2, self.object_diameter * 2) if self.object_diameter else None
        )

    @classmethod
    def of(cls, training: dict) -> PostProcessing:
        levels = dict(training.get("instance_levels") or {})
        return cls(
            seed=float(levels.pop("seed", DEFAULT_LEVELS["seed"])),
            extent=float(levels.pop("extent", DEFAULT_LEVELS["extent"])),
            flow_error=float(levels.pop("flow_error", MAX_ERROR)),
            group=str(levels.pop("group", "flows")),
            min_size=int(training.get("instance_min_size", MIN_SIZE)),
            object_diameter=training.get("object_diameter"),
            diameter_range=training.get("diameter_range"),
            scale=training.get("scale"),
            tuning=levels,
        )

    def tuned(self, result: dict) -> PostProcessing:
        """These settings with the levels of a tuning ``result`` (``tune_levels``: seed,
        extent and, for a flow head, flow_error or group, beside the F1 figures kept as
        ``tuning``)."""
        figures = dict(result)
        levels = {
            key: figures.pop(key)
            for key in ("seed", "extent", "flow_error", "group")
            if key in figures
        }
        return replace(self, **{"group": "flows", **levels}, tuning=figures)

    def write(self, training: dict) -> None:
        """Record these settings in a bundle's training record (its historic keys)."""
        levels = {"seed": self.seed, "extent": self.extent}
        if self.flow_error != MAX_ERROR:  # tuned (bundles before it read as the default)
            levels["flow_error"] = self.flow_error
        if self.group != "flows":
            levels["group"] = self.group
        training["instance_levels"] = {**levels, **self.tuning}
        training["instance_min_size"] = self.min_size
        for key in ("object_diameter", "diameter_range", "scale"):
            value = getattr(self, key)
            if value is None:
                training.pop(key, None)
            else:
                training[key] = value


@dataclass(frozen=True)
class RunRecord:
    """What the run that made a model found: epochs run and the best one, why it ended, its
    seconds and steps per epoch, the device, the training pairs, whether a continued run kept
    its start (``kept_start`` says why) or by how much an epoch beat it (``beat_start``), and
    what it continued, replayed or checkpointed, the
    adaptation to corrections, the memory plan, and the provenance of a bundled model."""

    epochs_run: int | None = None
    best_epoch: int | None = None
    ended: str | None = None
    seconds: float | None = None
    steps_per_epoch: int | None = None
    device: str | None = None
    pairs: int | None = None
    kept_start: str | None = None
    beat_start: str | None = None
    continued_from: dict | None = None
    replay_of: str | None = None
    checkpoint: str | None = None
    adapted: dict | None = None
    memory: dict | None = None
    provenance: dict | None = None

    @property
    def start_outcome(self) -> str | None:
        """What a continued run did with its start: kept it (why) or replaced it (by how much)."""
        return self.kept_start or self.beat_start

    @classmethod
    def of(cls, training: dict) -> RunRecord:
        return cls(**{item.name: training.get(item.name) for item in fields(cls)})
