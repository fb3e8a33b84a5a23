"""Instance segmentation metrics: one-to-one matching of objects by IoU (Hungarian assignment).

Definitions follow docs/contracts.md ("Metrics") and the 2018 Data Science Bowl: at an IoU threshold t, a matched
pair with IoU >= t is a true positive, unmatched predictions are false positives and unmatched
truths false negatives; AP = TP / (TP + FP + FN) and F1 = 2TP / (2TP + FP + FN).
"""

from __future__ import annotations

import numpy as np

from ..errors import SegDLError

#: IoU thresholds 0.50, 0.55, ..., 0.95.
THRESHOLDS = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))


def iou_matrix(prediction: np.ndarray, truth: np.ndarray):
    """IoU of every (truth object, predicted object) pair that overlaps, and their IDs."""
    truth_ids, truth_index = np.unique(truth, return_inverse=True)
    pred_ids, pred_index = np.unique(prediction, return_inverse=True)
    overlap = np.zeros((len(truth_ids), len(pred_ids)), dtype=np.int64)
    np.add.at(overlap, (truth_index.ravel(), pred_index.ravel()), 1)
    keep_t, keep_p = truth_ids != 0, pred_ids != 0  # 0 is background on both sides
    overlap = overlap[np.ix_(keep_t, keep_p)]
    truth_area = np.bincount(truth_index.ravel(), minlength=len(truth_ids))[keep_t][:, None]
    pred_area = np.bincount(pred_index.ravel(), minlength=len(pred_ids))[keep_p][None, :]
    union = truth_area + pred_area - overlap
    iou = np.where(union > 0, overlap / np.maximum(union, 1), 0.0)
    return iou, truth_ids[keep_t], pred_ids[keep_p]


def match(prediction: np.ndarray, truth: np.ndarray):
    """One-to-one matching maximising total IoU; returns (truth IDs, predicted IDs, IoUs)
    of the matched pairs that overlap, and the IDs of all truth and predicted objects."""
    from scipy.optimize import linear_sum_assignment

    iou, truth_ids, pred_ids = iou_matrix(prediction, truth)
    rows, cols = linear_sum_assignment(-iou) if iou.size else (np.array([], int),) * 2
    overlapping = iou[rows, cols] > 0
    rows, cols = rows[overlapping], cols[overlapping]
    return truth_ids[rows], pred_ids[cols], iou[rows, cols], truth_ids, pred_ids


def check_instances(truth: np.ndarray, name: str = "truth") -> None:
    """Refuse a semantic mask given as instances: few values, each over many separate regions.

    Real instance labels may hold a few fragmented objects (a nucleus cut by a fold); a mask is
    taken for semantic when it has at least twice as many regions as values, and one value
    covers three regions or more.
    """
    from skimage.measure import label

    regions = label(truth, background=0, connectivity=1)
    pairs = np.unique(np.stack([truth.ravel(), regions.ravel()]), axis=1)
    ids, pieces = np.unique(pairs[0][pairs[0] != 0], return_counts=True)
    if len(ids) and pieces.max() >= 3 and pieces.sum() >= 2 * len(ids):
        worst = ids[pieces.argmax()]
        raise SegDLError(
            f"{name} looks semantic, not instance: label {worst} covers {pieces.max()} separate "
            f"regions ({pieces.sum()} regions for {len(ids)} label values). Give one ID per "
            "object (e.g. skimage.measure.label of the mask), or use semantic metrics or "
            "dense mode."
        )


def counts(prediction: np.ndarray, truth: np.ndarray) -> dict:
    """TP/FP/FN at every threshold and the IoUs of matched pairs, for pooling."""
    _, _, ious, truth_ids, pred_ids = match(prediction, truth)
    table = {}
    for t in THRESHOLDS:
        tp = int((ious >= t).sum())
        table[t] = (tp, len(pred_ids) - tp, len(truth_ids) - tp)
    return {"table": table, "ious": ious.tolist()}


def summarize(table: dict, ious: list[float]) -> dict:
    """Figures from (pooled) counts: per threshold, at 0.5, and averaged over 0.5:0.95."""
    per_threshold = {}
    for t, (tp, fp, fn) in table.items():
        per_threshold[f"{t:.2f}"] = {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "precision": tp / (tp + fp) if tp + fp else 0.0,
            "recall": tp / (tp + fn) if tp + fn else 0.0,
            "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0,
            "ap": tp / (tp + fp + fn) if tp + fp + fn else 1.0,
        }
    at50 = per_threshold["0.50"]
    matched = [i for i in ious if i >= 0.5]
    return {
        "ap50": at50["ap"],
        "f1_50": at50["f1"],
        "precision_50": at50["precision"],
        "recall_50": at50["recall"],
        "ap50_95": float(np.mean([row["ap"] for row in per_threshold.values()])),
        "mean_matched_iou": float(np.mean(matched)) if matched else 0.0,
        "per_threshold": per_threshold,
    }


def instance_errors(prediction: np.ndarray, truth: np.ndarray, threshold: float = 0.5):
    """(false positives, false negatives): unmatched predicted and truth objects at ``threshold``,
    as label images that keep their IDs."""
    matched_t, matched_p, ious, _, _ = match(prediction, truth)
    good = ious >= threshold
    fp = np.where(np.isin(prediction, matched_p[good]) | (prediction == 0), 0, prediction)
    fn = np.where(np.isin(truth, matched_t[good]) | (truth == 0), 0, truth)
    return fp, fn
