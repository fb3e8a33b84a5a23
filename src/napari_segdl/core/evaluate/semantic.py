"""Semantic segmentation metrics from a pooled confusion matrix."""

from __future__ import annotations

import numpy as np

from ..errors import SegDLError


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
        accuracy = np.where(truth_total > 0, hits / truth_total, np.nan)  # = recall
        precision = np.where(predicted_total > 0, hits / predicted_total, np.nan)
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
    return {
        "iou": summary(iou),
        "dice": summary(dice),
        "precision": summary(precision),
        "recall": summary(accuracy),
        "pixel_accuracy": accuracy_summary,
    }


def _check_label_image(array: np.ndarray, name: str) -> None:
    """Label images hold whole numbers: probabilities or intensities are refused."""
    kind = array.dtype.kind
    if kind in "biu":
        return
    if kind != "f" or not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
        raise SegDLError(
            f"{name} is not a label image (it holds {array.dtype} values that are not whole "
            "numbers, like probabilities or intensities): give label images, e.g. the .tif "
            "files of `napari-segdl predict` without --probabilities."
        )


def _pairs(prediction, truth, names) -> list[tuple[np.ndarray, np.ndarray, str]]:
    if not isinstance(prediction, (list, tuple)):
        prediction, truth = [prediction], [truth]
    if len(prediction) != len(truth) or not prediction:
        raise SegDLError(
            f"{len(prediction)} predictions for {len(truth)} truths; give them in pairs."
        )
    names = names or [f"pair {i}" for i in range(len(prediction))]
    pairs = []
    for p, t, name in zip(prediction, truth, names, strict=True):
        p, t = np.asarray(p), np.asarray(t)
        if p.shape != t.shape:
            raise SegDLError(
                f"{name}: prediction shape {p.shape} differs from truth shape {t.shape}; "
                "compare a prediction with the truth of the same image."
            )
        for array, side in ((p, "prediction"), (t, "truth")):
            _check_label_image(array, f"{name}: the {side}")
        if t.size == 0 or not t.any():
            raise SegDLError(
                f"{name}: the truth is empty (no labelled pixels); nothing to compare with."
            )
        pairs.append((p, t, name))
    return pairs


def evaluate(
    prediction,
    truth,
    *,
    ignore: int | None = None,
    instance: bool = False,
    names: list[str] | None = None,
) -> dict:
    """Compare predicted label images with ground truth.

    Parameters
    ----------
    prediction, truth : array or list of arrays
        Label images of equal shapes, 2D or stacks (one pair, or lists of pairs).
    ignore : int, optional
        A truth value to leave out (for example 0 for sparse, unlabelled pixels). A
        prediction of this value where the truth has a class counts as a miss.
    instance : bool
        The labels are instances (one ID per object, 0 background): match objects one to
        one by IoU and add ``ap50``, ``f1_50``, ``ap50_95``, ... ; the semantic figures are
        then those of foreground against background.
    names : list of str, optional
        A name for each pair (file or layer), used in errors and ``per_image``.

    Returns
    -------
    dict
        ``classes``; ``iou``, ``dice``, ``precision``, ``recall`` and ``pixel_accuracy`` with
        ``per_class`` and ``mean`` (pixels pooled over all images; accuracy also ``overall``);
        ``warnings`` (label values found on one side only); with ``instance``, the instance
        figures pooled over images (TP/FP/FN summed); and ``per_image``, the same for each pair.
    """
    pairs = _pairs(prediction, truth, names)
    if instance:
        from .instances import check_instances, counts, summarize

        for _, t, name in pairs:
            check_instances(t, f"{name}: the truth")
        found = [counts(p, t) for p, t, _ in pairs]
        pairs = [((p > 0).astype(np.uint8), (t > 0).astype(np.uint8), n) for p, t, n in pairs]
    values = np.unique(
        np.concatenate([np.union1d(np.unique(p), np.unique(t)) for p, t, _ in pairs])
    )
    report = np.flatnonzero(values != ignore) if ignore is not None else np.arange(len(values))
    per_image, total = [], np.zeros((len(values), len(values)), dtype=np.int64)
    for p, t, name in pairs:
        keep = t != ignore if ignore is not None else slice(None)
        confusion = confusion_matrix(
            np.searchsorted(values, t[keep]), np.searchsorted(values, p[keep]), len(values)
        )
        per_image.append({"name": name, **_scores(confusion, values.tolist(), report)})
        total += confusion
    result = {
        "classes": values[report].tolist(),
        **_scores(total, values.tolist(), report),
        "warnings": _one_sided(total, values, report),
        "per_image": per_image,
    }
    if instance:
        pooled = {
            t: tuple(int(n) for n in np.sum([f["table"][t] for f in found], axis=0))
            for t in found[0]["table"]
        }
        ious = [iou for f in found for iou in f["ious"]]
        result.update(summarize(pooled, ious))
        for row, f in zip(per_image, found, strict=True):
            row.update(summarize(f["table"], f["ious"]))
    return result


def _one_sided(confusion: np.ndarray, values: np.ndarray, report: np.ndarray) -> list[str]:
    """Label values that only the prediction or only the truth contains."""
    notes = []
    for i in report:
        in_truth, in_prediction = confusion[i].sum() > 0, confusion[:, i].sum() > 0
        if in_prediction and not in_truth:
            notes.append(f"label {values[i]} is predicted but absent from the truth")
        elif in_truth and not in_prediction:
            notes.append(f"label {values[i]} is in the truth but never predicted")
    return notes


def error_maps(prediction, truth, *, instance: bool = False, ignore: int | None = None):
    """(false positives, false negatives) as label images, to show where a model fails.

    Semantic: pixels predicted as a value the truth does not have there (holding the predicted
    value), and truth pixels predicted otherwise (holding the true value); ``ignore`` pixels are
    left out. Instance: predicted and true objects left unmatched at IoU 0.5, with their IDs.
    """
    prediction, truth = np.asarray(prediction), np.asarray(truth)
    if prediction.shape != truth.shape:
        raise SegDLError(
            f"prediction shape {prediction.shape} differs from truth shape {truth.shape}."
        )
    if instance:
        from .instances import instance_errors

        slices = [
            instance_errors(p, t) for p, t in zip(_slices(prediction), _slices(truth), strict=True)
        ]
        return (
            np.stack([s[0] for s in slices]).reshape(prediction.shape),
            np.stack([s[1] for s in slices]).reshape(truth.shape),
        )
    wrong = prediction != truth
    if ignore is not None:
        wrong &= truth != ignore
    return np.where(wrong, prediction, 0), np.where(wrong, truth, 0)


def _slices(array: np.ndarray) -> list[np.ndarray]:
    """The 2D slices of a label image (one for 2D), in C order."""
    return list(array.reshape(-1, *array.shape[-2:]))
