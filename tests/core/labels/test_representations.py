"""Star-convex distances and flow fields: targets that give the objects back, turned with the
image, and losses that prefer the right answer."""

import numpy as np
import pytest

from napari_segdl import evaluate
from napari_segdl._sample_data import nuclei_arrays, tissue_arrays
from napari_segdl.core.labels import flows, starconvex


def disk(radius: int, size: int = 41) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size] - size // 2
    return (yy**2 + xx**2 <= radius**2).astype(np.int32)


def letter_c() -> np.ndarray:
    """A thick C: not star-convex seen from any of its pixels."""
    yy, xx = np.mgrid[:64, :64] - 32
    ring = (yy**2 + xx**2 <= 26**2) & (yy**2 + xx**2 >= 14**2)
    return (ring & ~((xx > 0) & (np.abs(yy) < 8))).astype(np.int32)


@pytest.fixture(params=["nuclei", "tissue"])
def instances(request):
    arrays = nuclei_arrays(0) if request.param == "nuclei" else tissue_arrays(0)
    return arrays["instances"].astype(np.int32)


def test_a_disk_centre_sees_its_radius_along_every_ray():
    distances = starconvex.star_distances(disk(10))
    centre = distances[20, 20]
    assert centre.shape == (starconvex.RAYS,)
    assert np.all(np.abs(centre - 10.5) <= 1.0)
    assert not distances[0, 0].any()


def test_star_targets_give_the_objects_back(instances):
    targets = starconvex.star_targets(instances)
    found = starconvex.instances_from_stars(targets[..., 0], targets[..., 1:])
    assert evaluate(found, instances, instance=True)["f1_50"] == 1.0


@pytest.mark.parametrize("k", [1, 2, 3])
def test_star_targets_turn_with_the_image(instances, k):
    targets = starconvex.star_targets(instances)
    turned = starconvex.rotate_targets(targets, k)
    np.testing.assert_array_equal(turned, starconvex.star_targets(np.rot90(instances, k)))


@pytest.mark.parametrize("axis", [0, 1])
def test_star_targets_mirror_with_the_image(instances, axis):
    targets = starconvex.star_targets(instances)
    mirrored = starconvex.flip_targets(targets, axis)
    np.testing.assert_array_equal(mirrored, starconvex.star_targets(np.flip(instances, axis)))


def test_rays_must_divide_into_quarters():
    with pytest.raises(ValueError, match="multiple of 4"):
        starconvex.star_distances(disk(5), n_rays=30)


def test_flows_are_unit_vectors_inside_and_zero_outside(instances):
    field = flows.object_flows(instances)
    length = np.hypot(field[..., 0], field[..., 1])
    assert np.all(length[instances == 0] == 0)
    assert np.mean(np.abs(length[instances > 0] - 1) < 1e-3) > 0.99  # the centres may be 0


def test_flow_targets_give_the_objects_back(instances):
    targets = flows.flow_targets(instances)
    found = flows.instances_from_flows(targets[..., :2], targets[..., 2])
    assert evaluate(found, instances, instance=True)["f1_50"] == 1.0


def test_a_shape_no_star_describes_is_one_object_by_its_flows():
    shape = letter_c()
    targets = flows.flow_targets(shape)
    found = flows.instances_from_flows(targets[..., :2], targets[..., 2])
    assert found.max() == 1
    assert evaluate(found, shape, instance=True)["mean_matched_iou"] > 0.95


@pytest.mark.parametrize("k", [1, 2, 3])
def test_flows_turn_with_the_image(k):
    targets = flows.flow_targets(disk(9))  # one centre, the same whichever way up
    turned = flows.rotate_targets(targets, k)
    np.testing.assert_allclose(turned, flows.flow_targets(np.rot90(disk(9), k)), atol=1e-5)


@pytest.mark.parametrize("axis", [0, 1])
def test_flows_mirror_with_the_image(axis):
    targets = flows.flow_targets(disk(9))
    mirrored = flows.flip_targets(targets, axis)
    np.testing.assert_allclose(mirrored, flows.flow_targets(np.flip(disk(9), axis)), atol=1e-5)


def test_nothing_likely_enough_gives_no_objects():
    empty = np.zeros((32, 32), np.float32)
    assert not flows.instances_from_flows(np.zeros((32, 32, 2)), empty).any()
    assert not starconvex.instances_from_stars(empty, np.zeros((32, 32, 8))).any()


def _logit(p):
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def test_the_star_loss_prefers_the_right_distances(instances):
    from napari_segdl.core.train.losses import star_loss

    target = starconvex.star_targets(instances)[None]
    right = target.copy()
    right[..., 0] = _logit(target[..., 0])
    wrong = right.copy()
    wrong[..., 1:] += 3.0
    loss = star_loss()
    assert float(loss(target, right)) < float(loss(target, wrong))


def test_the_flow_loss_prefers_the_right_flows(instances):
    from napari_segdl.core.train.losses import flow_loss

    target = flows.flow_targets(instances)[None]
    right = target.copy()
    right[..., :2] *= 5.0
    right[..., 2] = _logit(target[..., 2])
    wrong = right.copy()
    wrong[..., :2] *= -1
    loss = flow_loss()
    assert float(loss(target, right)) < 0.01 < float(loss(target, wrong))
