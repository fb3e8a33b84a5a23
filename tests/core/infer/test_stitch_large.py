"""Lazy prediction finds the same objects as prediction in memory, also objects of 70-110 px
that span several 384-px chunks and touch each other (the chunks' band is a fixed 32 px), from
boundary classes and from flows alike."""

import dask.array as da
import numpy as np
import pytest

from napari_segdl import evaluate
from napari_segdl.core.infer.stitch import STITCH_OVERLAP, stitch_instances
from napari_segdl.core.labels.heads import head_targets
from napari_segdl.core.labels.instances import instance_targets, instances_from_probabilities

SIZE, CHUNK = 1152, 384


def _large_objects(seed: int) -> np.ndarray:
    """Disks 70-110 px across on a grid that puts many on chunk borders and corners; pairs of
    neighbours touch."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    labels = np.zeros((SIZE, SIZE), np.int32)
    centres = [(y, x) for y in range(80, SIZE - 60, 96) for x in range(80, SIZE - 60, 96)]
    for number, (y, x) in enumerate(centres, 1):
        y, x = y + rng.integers(-12, 13), x + rng.integers(-12, 13)
        radius = rng.uniform(35, 55)
        disk = ((yy - y) ** 2 + (xx - x) ** 2 <= radius**2) & (labels == 0)
        labels[disk] = number
    return labels


def _scores(labels: np.ndarray, head: str) -> np.ndarray:
    """What a perfect network of ``head`` would give: one-hot background/object/boundary, and
    with the flow head the flows after them."""
    classes = np.eye(3, dtype=np.float32)[instance_targets(labels)]
    extra = head_targets(labels, head)
    return classes if extra is None else np.concatenate([classes, extra], axis=-1)


@pytest.mark.parametrize("head", ["boundary", "flow"])
def test_lazy_equals_in_memory_for_objects_larger_than_the_band(head):
    labels = _large_objects(0)
    diameters = 2 * np.sqrt(np.bincount(labels.ravel())[1:] / np.pi)
    assert diameters.max() > 3 * STITCH_OVERLAP  # objects far larger than the band
    scores = _scores(labels, head)
    memory = instances_from_probabilities(scores)
    assert evaluate(memory, labels, instance=True)["f1_50"] == 1.0
    chunks = (CHUNK, CHUNK, scores.shape[-1])
    lazy = stitch_instances(da.from_array(scores, chunks=chunks)).compute()
    assert lazy.max() == len(np.unique(lazy)) - 1  # numbered 1..N
    agreement = evaluate(lazy, memory, instance=True)
    assert agreement["f1_50"] == 1.0
    assert agreement["mean_matched_iou"] > 0.999
    assert len(np.unique(lazy)) == len(np.unique(memory))
