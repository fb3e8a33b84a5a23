"""Instance mode's flow head: its targets travel with the pixels through augmentation and
test-time flips, its post-processing separates touching objects, and it trains end to end."""

import numpy as np
import pytest

from helpers import TINY, disc_grid, touching_discs
from napari_segdl import SegDLError, evaluate, load_model, predict, train
from napari_segdl._sample_data import nuclei_arrays
from napari_segdl.core.infer import engine
from napari_segdl.core.labels import flows
from napari_segdl.core.labels.heads import head_params, head_targets, turn_vectors
from napari_segdl.core.labels.instances import (
    instance_targets,
    instances_by_levels,
    instances_from_probabilities,
)
from napari_segdl.core.train import augment
from napari_segdl.core.train.config import TrainConfig
from napari_segdl.core.train.levels import ERROR_LEVELS, f1_at_50, level_grid
from napari_segdl.core.train.losses import FLOW_WEIGHT


def _scores(labels):
    """Perfect flow-head outputs for ``labels``: classes, then the flow."""
    classes = np.eye(3, dtype=np.float32)[instance_targets(labels)]
    return np.concatenate([classes, flows.object_flows(labels)], -1)


@pytest.mark.parametrize("k", range(4))
@pytest.mark.parametrize("mirror", [False, True])
def test_turned_vectors_equal_the_flows_of_the_turned_labels(k, mirror):
    labels = nuclei_arrays(0)["instances"].astype(np.int32)
    turned = np.rot90(labels, k)
    turned = np.flip(turned, 1) if mirror else turned
    moved = np.rot90(flows.object_flows(labels), k, axes=(0, 1))
    moved = np.flip(moved, 1) if mirror else moved
    expected = flows.flip_targets(flows.rotate_targets(flows.object_flows(labels), k), 1)
    expected = expected if mirror else flows.rotate_targets(flows.object_flows(labels), k)
    np.testing.assert_allclose(turn_vectors(moved, k, mirror), expected, atol=1e-6)
    found = flows.instances_from_flows(turn_vectors(moved, k, mirror), turned > 0)
    assert f1_at_50([(found, turned)]) == 1.0


def test_augmentation_moves_the_flow_with_the_pixels():
    labels = nuclei_arrays(1)["instances"].astype(np.int32)
    image = (labels > 0).astype(np.float32)[..., None]
    x = np.concatenate([image, head_targets(labels, "flow")], -1)
    rng = np.random.default_rng(3)
    for _ in range(4):
        x, y = augment.flip_rotate(x, labels, rng, vectors=True)
        x, labels = np.ascontiguousarray(x), np.ascontiguousarray(y)
    found = flows.instances_from_flows(x[..., 1:], labels > 0)
    assert f1_at_50([(found, labels)]) == 1.0
    bent, bent_labels = augment.deform(x, labels, np.random.default_rng(1), vectors=True)
    norms = np.linalg.norm(bent[..., 1:], axis=-1)
    assert (
        np.allclose(norms[bent_labels > 0], 1.0, atol=1e-4) and not norms[bent_labels == 0].any()
    )
    found = flows.instances_from_flows(bent[..., 1:], bent_labels > 0)
    assert evaluate(found, bent_labels, instance=True)["f1_50"] > 0.9


def test_the_flow_head_separates_touching_objects_at_every_level():
    labels = touching_discs(np.int32)
    scores = _scores(labels)
    assert f1_at_50([(instances_from_probabilities(scores, min_size=4), labels)]) == 1.0
    grid = level_grid(scores)
    assert {seed for seed, _ in grid} == {0.5} and len(grid) > 1  # no seeds: extents only
    for objects in instances_by_levels(scores, 4, "uint32", grid).values():
        assert objects.max() == 2 and f1_at_50([(objects, labels)]) == 1.0


def test_a_flow_head_groups_by_its_classes_alone_when_asked():
    labels = touching_discs(np.int32)
    scores = _scores(labels)
    scores[..., 3:] = 0.0  # flows going nowhere: every pixel its own centre
    assert f1_at_50([(instances_from_probabilities(scores, min_size=4), labels)]) == 0.0
    grouped = instances_from_probabilities(scores, min_size=4, group="classes")
    assert np.array_equal(grouped, instances_from_probabilities(scores[..., :3], min_size=4))
    assert f1_at_50([(grouped, labels)]) == 1.0
    with pytest.raises(SegDLError, match="Unknown grouping 'pixels'"):
        instances_from_probabilities(scores, group="pixels")


def test_pixels_that_end_together_but_do_not_touch_are_separate_objects():
    _, labels = disc_grid(spacing=32, radius=9, size=64)  # four discs apart
    mask = labels > 0
    ends = np.full((int(mask.sum()), 2), 31.5, np.float32)  # every pixel walked to one place
    found = flows.group(ends, mask, min_size=4)
    assert found.max() == 4 and f1_at_50([(found, labels)]) == 1.0


def test_objects_whose_flows_disagree_with_their_shape_are_dropped_unless_cut():
    _, labels = disc_grid(spacing=32, radius=9, size=96)
    vectors = flows.object_flows(labels)
    assert np.array_equal(flows.consistent(labels, vectors), labels)  # their own flows: kept
    swirl = vectors.copy()
    inside, edge = labels == labels[12, 12], labels == labels[12, 44]  # two of the top row
    for chosen in (inside, edge):
        swirl[chosen] = vectors[chosen][:, ::-1] * [1, -1]  # turned a quarter: round in circles
    kept = flows.consistent(labels, swirl)
    assert kept.max() == labels.max() - 2 and not kept[inside].any() and not kept[edge].any()
    piece = flows.consistent(labels[4:, :], swirl[4:, :], cut=True)  # both now at the edge
    assert piece.max() == labels.max()
    assert np.array_equal(flows.consistent(labels, swirl, max_error=None), labels)


class _Turning:
    """A stand-in network whose output is a fixed flow field around its tile's centre: a true
    network is equivariant only after training, this one exactly."""

    def predict_on_batch(self, batch):
        size = batch.shape[1]
        yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
        out = np.zeros((*batch.shape[:3], 5), np.float32)
        out[..., 0] = 1.0
        out[..., 3], out[..., 4] = -yy / size, -xx / size  # towards the centre
        return out


def test_test_time_flips_turn_the_flow_back():
    batch = np.zeros((1, 16, 16, 1), np.float32)
    plain = _Turning().predict_on_batch(batch)
    np.testing.assert_allclose(engine._augmented(_Turning(), batch, True), plain, atol=1e-6)
    wrong = engine._augmented(_Turning(), batch, False)
    assert np.abs(wrong[..., 3:]).max() < 1e-6  # averaged over turns without turning: nothing


def test_the_default_head_is_the_flows_in_2d_and_the_classes_in_3d():
    assert TrainConfig().instance_head == "auto"
    assert head_params("auto", 2) == {"flow_head": True} and head_params("auto", 3) == {}
    with pytest.raises(SegDLError, match="Unknown instance head 'flows'; choose one of auto"):
        head_params("flows")


def test_the_flow_head_is_refused_in_3d():
    with pytest.raises(SegDLError, match="flow head learns 2D flows"):
        train(np.zeros((8, 32, 32)), np.zeros((8, 32, 32), np.uint8), mode="instance",
              instance_head="flow", dims=3, epochs=1, **TINY)  # fmt: skip


@pytest.mark.slow
def test_a_flow_head_trains_tunes_its_extent_and_travels_in_the_bundle(tmp_path):
    image, labels = disc_grid(20, 10)  # neighbours touch
    params = {**TINY, "patch": 64, "depth": 3}
    model = train(image, labels, mode="instance", instance_head="flow", epochs=20, **params)
    assert model.keras_model.output_shape[-1] == 5 and model.info.arch_params["flow_head"]
    assert model.info.training["flow_weight"] == FLOW_WEIGHT
    levels = model.info.training["instance_levels"]
    assert levels["validation_f1_50"] >= levels["default_f1_50"]
    assert levels["seed"] == 0.5 or levels["group"] == "classes"  # seeds: the classes' alone
    assert levels.get("flow_error", flows.MAX_ERROR) in ERROR_LEVELS  # tuned with the extent
    loaded = load_model(model.save(tmp_path / "flow.keras"))
    assert loaded.info.training["instance_levels"] == levels
    assert all(abs(size - 20) < 1.5 for size in loaded.info.postprocessing.sizes)  # learned
    assert evaluate(predict(loaded, image), labels, instance=True)["f1_50"] > 0.8
    assert evaluate(predict(loaded, image, tta=True), labels, instance=True)["f1_50"] > 0.8
    assert predict(loaded, image, probabilities=True).shape == (128, 128, 5)
