"""Tuning an instance model's post-processing on its validation data (StarDist's
``optimize_thresholds`` idea): the seed and extent levels (with a flow head, the extent and the
flow check's level) that give the best F1 at IoU 0.5."""

from __future__ import annotations

import itertools

import numpy as np

from ..evaluate.instances import match
from ..infer.engine import predict_batch
from ..labels.flows import MAX_ERROR, instances_by_checks
from ..labels.instances import DEFAULT_LEVELS, instances_by_levels, instances_from_probabilities
from ..labels.modes import IGNORE
from .sampling import TrainingData

#: The levels tried for seeds and for the extent of objects.
SEED_LEVELS = (0.3, 0.4, 0.5, 0.6, 0.7)
EXTENT_LEVELS = (0.3, 0.4, 0.5, 0.6)
#: The flow check's levels tried for a flow head: cellpose's default (0.4) up to one that keeps
#: nearly every object (the squared difference of two unit vectors is at most 4).
ERROR_LEVELS = (0.4, 0.6, 0.8, 1.2, 2.0)


def objects_from_targets(target: np.ndarray) -> np.ndarray:
    """The objects of a background/object/boundary target patch: connected interiors grown into
    their boundary rim (the painted instances, as far as the targets keep them)."""
    from skimage.measure import label
    from skimage.segmentation import watershed

    seeds = label(target == 1, connectivity=1)
    return watershed(np.zeros(target.shape, np.float32), markers=seeds, mask=target > 0)


def f1_at_50(pairs) -> float:
    """F1 at IoU 0.5, TP/FP/FN pooled over (prediction, truth) pairs."""
    tp = fp = fn = 0
    for prediction, truth in pairs:
        _, _, ious, truth_ids, pred_ids = match(prediction, truth)
        hits = int((ious >= 0.5).sum())
        tp, fp, fn = tp + hits, fp + len(pred_ids) - hits, fn + len(truth_ids) - hits
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def _validation(model, data: TrainingData, batch: int):
    """Class scores of the validation patches, their labelled masks and their objects."""
    inputs = data.val_images[..., : model.info.channels]
    scores = np.concatenate(
        [
            predict_batch(model.keras_model, inputs[i : i + batch])
            for i in range(0, len(inputs), batch)
        ]
    )
    labelled = data.val_targets != IGNORE
    truths = [
        objects_from_targets(np.where(m, t, 0))
        for t, m in zip(data.val_targets, labelled, strict=True)
    ]
    return scores, labelled, truths


def validation_instances(model, data: TrainingData, batch: int, levels: dict):
    """The instances found on the validation patches with ``levels`` (``min_size``, ``seed``,
    ``extent``, ``max_error``) and the true ones, both within the labelled pixels: two lists."""
    scores, labelled, truths = _validation(model, data, batch)
    predictions = [
        np.where(m, instances_from_probabilities(s, levels["min_size"], "uint32", levels["seed"],
                                                  levels["extent"], cut=True,
                                                  max_error=levels.get("max_error", MAX_ERROR),
                                                  group=levels.get("group", "flows")), 0)
        for s, m in zip(scores, labelled, strict=True)
    ]  # fmt: skip
    return predictions, truths


def level_grid(scores: np.ndarray) -> list[tuple[float, float]]:
    """The (seed, extent) pairs tried: every seed and extent level, or for a flow head (which
    has no seeds, :mod:`~napari_segdl.core.labels.heads`) the extent levels alone."""
    seeds = (DEFAULT_LEVELS["seed"],) if scores.shape[-1] == 5 else SEED_LEVELS
    return list(itertools.product(seeds, EXTENT_LEVELS))


def tune_levels(model, data: TrainingData, batch: int, min_size: int) -> dict | None:
    """Seed and extent levels (with a flow head, the extent and the flow check's
    ``flow_error``, or, where its classes alone group better, ``group="classes"`` with their
    seed and extent) with the best F1 at IoU 0.5 on the validation patches, with the F1 of the
    defaults and of the choice; None without validation patches."""
    if not len(data.val_images):
        return None
    scores, labelled, truths = _validation(model, data, batch)
    flows = scores.shape[-1] == 5
    classes = list(itertools.product(SEED_LEVELS, EXTENT_LEVELS))
    default = (  # the flows' (extent, flow error), or the classes' (seed, extent)
        ("flows", DEFAULT_LEVELS["extent"], MAX_ERROR)
        if flows
        else ("classes", DEFAULT_LEVELS["seed"], DEFAULT_LEVELS["extent"])
    )
    pairs: dict[tuple, list] = {}
    for s, m, truth in zip(scores, labelled, truths, strict=True):
        grouped = s[..., :3] if flows else s  # a flow head's classes; the others whole
        found = {
            ("classes", *levels): objects
            for levels, objects in instances_by_levels(grouped, min_size, "uint32", classes,
                                                       cut=True).items()
        }  # fmt: skip
        if flows:  # the pixels walk once for every extent and flow check
            walked = instances_by_checks(s[..., 3:], 1.0 - s[..., 0], EXTENT_LEVELS, ERROR_LEVELS,
                                         min_size=min_size, dtype="uint32", cut=True)  # fmt: skip
            found.update({("flows", *levels): objects for levels, objects in walked.items()})
        for levels, objects in found.items():
            pairs.setdefault(levels, []).append((np.where(m, objects, 0), truth))
    tried = {levels: f1_at_50(found) for levels, found in pairs.items()}

    def rank(levels):  # the best F1; among equals, the default grouping and levels nearest it
        same = levels[0] == default[0]
        distance = sum(abs(a - b) for a, b in zip(levels[1:], default[1:], strict=True))
        return tried[levels], same, -distance if same else 0.0

    best = max(tried, key=rank)
    if best[0] == "flows":
        chosen = {"seed": DEFAULT_LEVELS["seed"], "extent": best[1], "flow_error": best[2]}
    else:
        chosen = {"seed": best[1], "extent": best[2], **({"group": "classes"} if flows else {})}
    return {
        **chosen,
        "validation_f1_50": round(tried[best], 4),
        "default_f1_50": round(tried[default], 4),
    }
