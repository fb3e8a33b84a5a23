"""The guard of a continued run: an epoch replaces the model it started from only when it beats
it on the held-out patches by more than chance.

For an instance model the two are compared object by object (a paired comparison): both
predict the same held-out objects, so what decides is the objects one finds and the other
misses, and the false objects one adds or removes, not the spread of F1 over images. Each true
object is a unit (with the false objects that overlap it most by IoU), each group of overlapping false
objects elsewhere another; the units are resampled (a bootstrap) and the epoch must gain in
all but :data:`RISK` of the draws, and by :data:`GUARD_MARGIN` at least, without losing F1
averaged over IoU 0.5 to 0.95 (an epoch that finds more objects but outlines them worse, its
AP 0.5:0.95 falling on unseen images, is refused). A paired test
accepts real gains that the spread between images hides (1/sqrt(n) for n objects, 0.1 for 100:
the guard of earlier releases, which no round of a few corrected images could pass). Other
modes need the IoU of the classes to gain :data:`GUARD_MARGIN`.
"""

from __future__ import annotations

import numpy as np

from ..evaluate.instances import THRESHOLDS

#: How much better (F1 at IoU 0.5, or IoU) an epoch must score than the start, at least.
GUARD_MARGIN = 0.02
#: The share of bootstrap draws in which an accepted epoch may score no better than the start.
#: One-sided, and strict (2.5 %, not 5 %), because the best of several epochs is on trial.
RISK = 0.025
#: Bootstrap draws of the units.
DRAWS = 2000
#: What a continued run says when no epoch beat the model it started from.
KEPT_START = (
    "no epoch beat the starting model on the held-out patches: the starting model is "
    "returned unchanged"
)


def _outcome(prediction: np.ndarray, truth: np.ndarray):
    """Each true object's IoU with the prediction matched to it, each predicted object's with
    the true one it is matched to (0: unmatched), and the latter's owner (the true object it is
    matched to, or else the one it has the highest IoU with; 0: none)."""
    from ..evaluate.instances import iou_matrix, match

    truth_hits, pred_hits, ious, truth_ids, pred_ids = match(prediction, truth)
    truth_iou = dict.fromkeys(truth_ids.tolist(), 0.0) | dict(
        zip(truth_hits.tolist(), ious, strict=True)
    )
    pred_iou = dict.fromkeys(pred_ids.tolist(), 0.0) | dict(
        zip(pred_hits.tolist(), ious, strict=True)
    )
    owner = dict.fromkeys(pred_ids.tolist(), 0)
    if len(truth_ids):  # truth x prediction IoUs, the IDs as above
        overlaps, _, _ = iou_matrix(prediction, truth)
        nearest = np.where(overlaps.max(0) > 0, truth_ids[overlaps.argmax(0)], 0)
        owner = dict(zip(pred_ids.tolist(), nearest.tolist(), strict=True))
    owner.update(zip(pred_hits.tolist(), truth_hits.tolist(), strict=True))
    return truth_iou, pred_iou, owner


def paired_units(start: np.ndarray, new: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Units of one patch for a paired comparison, shape (units, 2, thresholds, 3): TP, FP and
    FN of ``start`` and of ``new`` at each IoU threshold of :data:`THRESHOLDS`. A true object
    is a unit with the predicted objects it owns (matched to it, or else of highest IoU with it);
    predicted objects on no true one are grouped where they overlap each other."""
    from skimage.measure import label

    levels = np.asarray(THRESHOLDS)
    truth_ids = [int(i) for i in np.unique(truth) if i]
    rows = {t: np.zeros((2, len(levels), 3), np.int64) for t in truth_ids}
    orphans = np.zeros(truth.shape, np.int32)  # objects on no true one: 1 start, 2 new
    owners = []
    for which, prediction in enumerate((start, new)):
        truth_iou, pred_iou, owner = _outcome(prediction, truth)
        for t, iou in truth_iou.items():
            rows[t][which, :, 0] += iou >= levels
            rows[t][which, :, 2] += iou < levels
        for p, iou in pred_iou.items():
            if owner[p]:
                rows[owner[p]][which, :, 1] += iou < levels
            else:
                mask = prediction == p
                orphans[mask] |= which + 1
                owners.append((which, np.argwhere(mask)[0]))
    groups = label(orphans > 0, connectivity=2)
    extra: dict = {}
    for which, pixel in owners:
        unit = extra.setdefault(groups[tuple(pixel)], np.zeros((2, len(levels), 3), np.int64))
        unit[which, :, 1] += 1
    units = list(rows.values()) + list(extra.values())
    return np.stack(units) if units else np.zeros((0, 2, len(levels), 3), np.int64)


def _f1(counts: np.ndarray) -> np.ndarray:
    """F1 of TP, FP, FN counts on the last axis."""
    tp, fp, fn = np.moveaxis(counts, -1, 0)
    total = 2 * tp + fp + fn
    return np.where(total > 0, 2 * tp / np.maximum(total, 1), 0.0)


def paired_gain(units: np.ndarray, seed: int = 0) -> dict:
    """The gain of ``new`` over ``start`` on ``units`` (:func:`paired_units`, pooled): of F1 at
    IoU 0.5 (``gain``) with its lower bound (``lower``: the :data:`RISK` quantile over bootstrap
    draws of the units), and of F1 averaged over IoU 0.5 to 0.95 (``gain_50_95``)."""

    def gains(counts):  # counts: (..., 2, thresholds, 3) -> F1 gains (..., thresholds)
        f1 = _f1(counts)
        return f1[..., 1, :] - f1[..., 0, :]

    pooled = gains(units.sum(axis=0))
    verdict = {"gain": float(pooled[0]), "gain_50_95": float(pooled.mean())}
    if len(units) == 0:
        return verdict | {"lower": verdict["gain"]}
    draws = np.random.default_rng(seed).integers(0, len(units), (DRAWS, len(units)))
    drawn = units[:, :, :1][draws].sum(axis=1)  # IoU 0.5 only
    return verdict | {"lower": float(np.quantile(gains(drawn)[:, 0], RISK))}


def kept_start(verdicts: list[dict], instance: bool) -> str:
    """What a run that kept its start says: :data:`KEPT_START`, and why, from the epoch that
    came closest (its gain, on how many held-out objects, and what it lacked)."""
    if not verdicts:
        return KEPT_START
    epoch = max(range(len(verdicts)), key=lambda k: verdicts[k]["gain"])
    verdict = verdicts[epoch]
    if not instance:
        return (
            f"{KEPT_START} (the closest, epoch {epoch + 1}, changed the IoU by "
            f"{verdict['gain']:+.3f}; a gain of {GUARD_MARGIN:g} is asked)"
        )
    closest = (
        f"the closest, epoch {epoch + 1}, changed F1@0.5 by {verdict['gain']:+.3f} on "
        f"{verdict['objects']} held-out objects"
    )
    if verdict["gain"] < GUARD_MARGIN:
        why = f"a gain of {GUARD_MARGIN:g} is asked"
    elif verdict["lower"] <= 0:
        why = (
            "within chance on so few objects: correcting more of them gives the test more to go on"
        )
    else:
        why = f"but outlined them worse (F1 over IoU 0.5-0.95 {verdict['gain_50_95']:+.3f})"
    return f"{KEPT_START} ({closest}, {why})"


class StartGuard:
    """The start of a continued run as epoch 0: its score on the held-out patches, and the
    test an epoch must pass to replace it (see the module's text)."""

    def __init__(self, model, data, batch: int, val_loss: float, val_iou: float):
        self.data, self.batch = data, batch
        self.instance = model.class_map.mode == "instance"
        self.predictions = self._predict(model) if self.instance else None
        self.score = self._score(self.predictions, val_iou)
        self.record = {
            "val_loss": val_loss,
            "val_iou": val_iou,
            "score": self.score,
            "margin": GUARD_MARGIN,
            "test": f"paired bootstrap, risk {RISK}" if self.instance else "margin",
        }

    def _predict(self, model):
        from ..infer.engine import instance_options
        from .levels import validation_instances

        return validation_instances(model, self.data, self.batch, instance_options(model))

    def _score(self, predictions, val_iou: float) -> tuple:
        """An instance model's F1 at IoU 0.5 (the objects a user sees), ties broken by the
        class IoU; the class IoU for the other modes."""
        if predictions is None:
            return (val_iou,)
        from .levels import f1_at_50

        found, truths = predictions
        return (f1_at_50(zip(found, truths, strict=True)), val_iou)

    def judge(self, model, val_iou: float) -> tuple[tuple, dict]:
        """An epoch's score and the verdict: ``{"beats": bool, "gain": .., "lower": ..}``."""
        if not self.instance:
            gain = val_iou - self.score[0]
            return (val_iou,), {"beats": gain >= GUARD_MARGIN, "gain": gain, "lower": gain}
        found, truths = self._predict(model)
        units = [
            paired_units(old, new, truth)
            for old, new, truth in zip(self.predictions[0], found, truths, strict=True)
        ]
        units = np.concatenate(units)
        verdict = paired_gain(units) | {"objects": int(units[:, 0, 0, [0, 2]].sum())}
        beats = (
            verdict["gain"] >= GUARD_MARGIN and verdict["lower"] > 0 and verdict["gain_50_95"] >= 0
        )
        return self._score((found, truths), val_iou), {"beats": beats, **verdict}

    def kept(self, history: dict) -> str:
        """What a run that kept its start says (:func:`kept_start`)."""
        return kept_start(history.get("verdict", []), self.instance)

    def beaten(self, epoch: int, history: dict) -> str:
        """What a run whose ``epoch`` replaced the start says (its status and last line)."""
        score, verdict = history["score"][epoch - 1], history["verdict"][epoch - 1]
        if not self.instance:
            return (
                f"epoch {epoch} beat the starting model: IoU {self.score[0]:.3f} → {score[0]:.3f}"
            )
        return (
            f"epoch {epoch} beat the starting model on {verdict['objects']} held-out objects: "
            f"F1@0.5 {self.score[0]:.3f} → {score[0]:.3f} (ahead in "
            f"{100 * (1 - RISK):g} % of resamples)"
        )
