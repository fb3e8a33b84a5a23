"""Semantic segmentation metrics from a pooled confusion matrix."""

from __future__ import annotations

import numpy as np

from .errors import SegDLError


def confusion_matrix(truth: np.ndarray, prediction: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``[t, p]`` of pixels of true class index t predicted as p."""
    flat = truth.astype(np.int64).ravel() * num_classes + prediction.astype(np.int64).ravel()
    return np.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def iou_from_confusion(confusion: np.ndarray) -> np.ndarray:
    """IoU of each class; NaN for a class absent from both truth and prediction."""
    hits = np.diag(confusion).astype(float)
    union = confusion.sum(0) + confusion.sum(1) - hits
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, hits / union, np.nan)


def _scores(confusion: np.ndarray, values: list[int], report: np.ndarray) -> dict:
    """Per-class figures for the class indices ``report`` of a full confusion matrix."""
    hits = np.diag(confusion).astype(float)[report]
    truth_total, predicted_total = confusion.sum(1)[report], confusion.sum(0)[report]
    with np.errstate(invalid="ignore", divide="ignore"):
        union = truth_total + predicted_total - hits
        iou = np.where(union > 0, hits / union, np.nan)
        dice = np.where(union > 0, 2 * hits / (truth_total + predicted_total), np.nan)
        accuracy = np.where(truth_total > 0, hits / truth_total, np.nan)
    names = [str(values[i]) for i in report]

    def summary(per_class):
        return {
            "per_class": {
                n: (None if np.isnan(x) else float(x))
                for n, x in zip(names, per_class, strict=True)
            },
            "mean": float(np.nanmean(per_class)) if np.isfinite(per_class).any() else None,
        }

    accuracy_summary = summary(accuracy)
    accuracy_summary["overall"] = float(hits.sum() / max(truth_total.sum(), 1))
    return {"iou": summary(iou), "dice": summary(dice), "pixel_accuracy": accuracy_summary}


def evaluate(prediction, truth, *, ignore: int | None = None) -> dict:
    """Compare predicted label images with ground truth, class by class.

    Parameters
    ----------
    prediction, truth : array or list of arrays
        Label images of equal shapes (one pair, or lists of pairs).
    ignore : int, optional
        A truth value to leave out (for example 0 for sparse, unlabelled pixels). A
        prediction of this value where the truth has a class counts as a miss.

    Returns
    -------
    dict
        ``classes``; ``iou``, ``dice`` and ``pixel_accuracy`` with ``per_class`` and
        ``mean`` (pixels pooled over all images; accuracy also ``overall``); and
        ``per_image``, the same figures for each pair.
    """
    if not isinstance(prediction, (list, tuple)):
        prediction, truth = [prediction], [truth]
    if len(prediction) != len(truth) or not prediction:
        raise SegDLError(
            f"{len(prediction)} predictions for {len(truth)} truths; give them in pairs."
        )
    pairs = [(np.asarray(p), np.asarray(t)) for p, t in zip(prediction, truth, strict=True)]
    for i, (p, t) in enumerate(pairs):
        if p.shape != t.shape:
            raise SegDLError(
                f"Pair {i}: prediction shape {p.shape} differs from truth shape {t.shape}."
            )
    values = np.unique(np.concatenate([np.union1d(np.unique(p), np.unique(t)) for p, t in pairs]))
    report = np.flatnonzero(values != ignore) if ignore is not None else np.arange(len(values))
    per_image, total = [], np.zeros((len(values), len(values)), dtype=np.int64)
    for p, t in pairs:
        keep = t != ignore if ignore is not None else slice(None)
        confusion = confusion_matrix(
            np.searchsorted(values, t[keep]), np.searchsorted(values, p[keep]), len(values)
        )
        per_image.append(_scores(confusion, values.tolist(), report))
        total += confusion
    return {
        "classes": values[report].tolist(),
        **_scores(total, values.tolist(), report),
        "per_image": per_image,
    }
