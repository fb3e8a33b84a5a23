"""The continued run's guard: object-by-object (paired) comparison of an epoch with its start."""

import numpy as np

from napari_segdl.core.evaluate.instances import THRESHOLDS
from napari_segdl.core.train.guard import (
    GUARD_MARGIN,
    KEPT_START,
    kept_start,
    paired_gain,
    paired_units,
)


def grid_of_objects(rows: int, cols: int, size: int = 6, gap: int = 4) -> np.ndarray:
    """Square objects on a grid, IDs 1..rows*cols."""
    step = size + gap
    labels = np.zeros((rows * step, cols * step), np.uint16)
    for k in range(rows * cols):
        y, x = divmod(k, cols)
        labels[y * step : y * step + size, x * step : x * step + size] = k + 1
    return labels


def at_50(units: np.ndarray) -> np.ndarray:
    """Units at IoU 0.5 as rows (TP, FP, FN of the start; TP, FP, FN of the new one)."""
    return units[:, :, 0, :].reshape(len(units), 6)


def as_units(rows) -> np.ndarray:
    """Rows of counts at IoU 0.5 as units, the same counts at every threshold."""
    rows = np.asarray(rows).reshape(-1, 2, 1, 3)
    return np.repeat(rows, len(THRESHOLDS), axis=2)


def test_units_pair_each_true_object_and_group_the_false_ones():
    truth = grid_of_objects(1, 3)
    truth = np.pad(truth, ((0, 20), (0, 0)))
    start = truth.copy()
    start[start == 3] = 0  # misses object 3
    new = truth.copy()
    new[0:2, 0:2] = 0  # still finds object 1 (IoU 32/36)
    new[12:16, 0:4] = 7  # a false object on no true one
    new[12:16, 4:6] = 8  # ... and one touching it: one group
    units = at_50(paired_units(start, new, truth))
    # columns: TP, FP, FN of the start; TP, FP, FN of the new one
    assert units[:3].tolist() == [[1, 0, 0, 1, 0, 0], [1, 0, 0, 1, 0, 0], [0, 0, 1, 1, 0, 0]]
    assert units[3:].tolist() == [[0, 0, 0, 0, 2, 0]]
    assert units.sum(axis=0).tolist() == [2, 0, 1, 3, 2, 0]


def test_a_false_object_on_a_true_one_joins_its_unit():
    truth = grid_of_objects(1, 2)
    start = truth.copy()
    new = truth.copy()
    new[truth == 1] = 0
    new[0:6, 0:2] = 5  # covers a third of object 1: too little to find it, a false object
    units = at_50(paired_units(start, new, truth))
    assert units.tolist() == [[1, 0, 0, 0, 1, 1], [1, 0, 0, 1, 0, 0]]


def test_consistent_gains_over_many_objects_pass_a_single_one_does_not():
    same = np.tile([1, 0, 0, 1, 0, 0], (100, 1))
    found = np.tile([0, 0, 1, 1, 0, 0], (8, 1))  # 8 objects the start missed
    verdict = paired_gain(as_units(np.concatenate([same, found])))
    # F1 0.964 -> 1.0: the spread between images (1/sqrt(108) ~ 0.1) would refuse it
    assert verdict["gain"] > GUARD_MARGIN and verdict["lower"] > 0
    assert paired_gain(as_units(np.concatenate([same, found[:1]])))["lower"] <= 0


def test_gains_and_losses_that_cancel_do_not_pass():
    same = np.tile([1, 0, 0, 1, 0, 0], (60, 1))
    won = np.tile([0, 0, 1, 1, 0, 0], (12, 1))
    lost = np.tile([1, 0, 0, 0, 0, 1], (9, 1))
    verdict = paired_gain(as_units(np.concatenate([same, won, lost])))
    assert verdict["gain"] > 0 and verdict["lower"] <= 0


def test_false_objects_removed_count_as_a_gain():
    same = np.tile([1, 0, 0, 1, 0, 0], (50, 1))
    cleaned = np.tile([0, 2, 0, 0, 0, 0], (10, 1))  # 20 false objects the new one drops
    verdict = paired_gain(as_units(np.concatenate([same, cleaned])))
    assert verdict["gain"] > 0.1 and verdict["lower"] > 0


def test_outlines_count_at_the_stricter_thresholds():
    truth = grid_of_objects(2, 2, size=10)
    start = truth.copy()
    start[start == 4] = 0  # misses one object, outlines the others exactly
    new = truth.copy()
    new[:, np.arange(new.shape[1]) % 10 < 3] = 0  # finds all four, 3 columns thinner (IoU 0.7)
    units = paired_units(start, new, truth)
    verdict = paired_gain(units)
    assert verdict["gain"] > 0  # one more object found at IoU 0.5 ...
    assert verdict["gain_50_95"] < 0  # ... but none at IoU 0.95
    assert units[:, 1, -1].sum(axis=0).tolist() == [0, 4, 4]  # new: 4 FP, 4 FN at 0.95


def test_no_unit_is_no_gain():
    empty = np.zeros((0, 2, len(THRESHOLDS), 3), np.int64)
    assert paired_gain(empty) == {"gain": 0.0, "gain_50_95": 0.0, "lower": 0.0}


def test_a_kept_start_says_what_the_closest_epoch_lacked():
    def verdict(gain, lower, outline, objects=8):
        return {"gain": gain, "lower": lower, "gain_50_95": outline, "objects": objects}

    assert kept_start([], instance=True) == KEPT_START  # stopped before an epoch ended
    small = kept_start([verdict(-0.1, -0.2, 0.0), verdict(0.01, -0.05, 0.1)], instance=True)
    assert small.startswith(KEPT_START)
    assert "epoch 2, changed F1@0.5 by +0.010 on 8 held-out objects" in small
    assert f"a gain of {GUARD_MARGIN:g} is asked" in small
    chance = kept_start([verdict(0.076, 0.0, 0.19)], instance=True)
    assert "+0.076 on 8 held-out objects, within chance" in chance
    assert "correcting more of them" in chance
    worse = kept_start([verdict(0.05, 0.01, -0.03, objects=120)], instance=True)
    assert "on 120 held-out objects, but outlined them worse" in worse and "-0.030" in worse
    dense = kept_start([{"gain": 0.004, "lower": 0.004}], instance=False)
    assert "changed the IoU by +0.004" in dense
