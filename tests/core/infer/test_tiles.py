"""Seamless tiles, chunk-by-chunk prediction of lazy images, instance IDs across chunks."""

import dask.array as da
import numpy as np
import pytest
from skimage.draw import disk
from skimage.measure import label
from skimage.segmentation import find_boundaries

from helpers import TINY, make_blobs, untrained_model
from napari_segdl import evaluate, predict, train
from napari_segdl.core.errors import SegDLError
from napari_segdl.core.infer.lazy import exact_limits
from napari_segdl.core.infer.stitch import stitch_instances
from napari_segdl.core.infer.tiles import auto_tile, plan_axis
from napari_segdl.core.models import geometry
from napari_segdl.core.models.geometry import receptive_margin


@pytest.fixture(scope="module")
def network():
    """An untrained two-class U-Net of depth 2: tiles, flips and chunks are arithmetic, which
    any weights test (labels 0 and 1)."""
    return untrained_model()


def test_receptive_margins_are_on_the_pooling_grid():
    assert receptive_margin(2) == 24 and receptive_margin(4) == 112
    for depth in range(2, 6):
        assert receptive_margin(depth) % 2**depth == 0
        assert receptive_margin(depth) >= (14 * 2**depth - 9) / 2


@pytest.mark.parametrize("length", [1, 50, 128, 129, 700, 4096])
def test_tile_plans_cover_the_axis_and_blend_to_one(length):
    plan = plan_axis(length, 256, 24, 4)
    assert plan.tile <= 256 and plan.tile % 4 == 0
    assert all(start % 4 == 0 for start in plan.starts)
    assert plan.padded >= length and plan.starts[0] == 0
    total = np.zeros(plan.padded)
    for i, start in enumerate(plan.starts):
        total[start : start + plan.tile] += plan.weights(i)
    np.testing.assert_allclose(total[:length], 1.0, atol=1e-6)


def test_a_tile_smaller_than_its_overlap_is_refused(network, blobs):
    with pytest.raises(SegDLError, match="tile 64 is too small for this model"):
        plan_axis(1000, 64, 24, 4)
    with pytest.raises(SegDLError, match=r"tile 100 is too small .* at least 160"):
        predict(network, blobs[0][:10, :10], tile=100)  # even for an image that fits


def test_automatic_tiles_fit_the_memory():
    tile, batch = auto_tile(geometry("unet", {"depth": 4, "filters": 16}), available=8 * 1024**3)
    assert tile % 16 == 0 and 256 <= tile <= 4096 and batch >= 1
    small, _ = auto_tile(geometry("unet", {"depth": 4, "filters": 64}), available=1024**3)
    assert small < tile


def _interior(array, margin):
    return array[margin:-margin, margin:-margin]


def test_tiles_equal_the_whole_image_away_from_the_border(network):
    image = np.tile(make_blobs()[0], (3, 4))[:250, :470]
    whole = predict(network, image, tile=4096, probabilities=True)
    tiled = predict(network, image, tile=128, probabilities=True)
    assert tiled.shape == whole.shape == (250, 470, 2)
    margin = receptive_margin(2)
    assert np.abs(_interior(tiled - whole, margin)).max() < 1e-4
    np.testing.assert_allclose(tiled.sum(-1), 1.0, atol=1e-4)


def test_test_time_augmentation_averages_flips(network, blobs):
    image = blobs[0]
    plain = predict(network, image, probabilities=True)
    averaged = predict(network, image, probabilities=True, tta=True)
    assert averaged.shape == plain.shape
    np.testing.assert_allclose(averaged.sum(-1), 1.0, atol=1e-4)
    assert not np.allclose(averaged, plain)
    flipped = predict(network, image[::-1], probabilities=True, tta=True)[::-1]
    assert np.abs(_interior(flipped - averaged, 24)).max() < 1e-3  # flip-invariant inside


def test_threshold_for_two_class_models(network, blobs):
    image = blobs[0]
    scores = predict(network, image, probabilities=True)
    strict = predict(network, image, threshold=0.9)
    np.testing.assert_array_equal(strict == 1, scores[..., 1] >= 0.9)
    with pytest.raises(SegDLError, match=r"threshold must be between 0\.01 and 0\.99"):
        predict(network, image, threshold=1.5)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16])
def test_exact_percentiles_of_integer_images_by_chunks(dtype):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype)
    image = rng.integers(info.min, info.max, (300, 200, 2), endpoint=True).astype(dtype)
    limits = exact_limits(da.from_array(image, chunks=(64, 64, 2)), 1.0, 99.8)
    expected = np.percentile(image.astype(np.float64), [1.0, 99.8], axis=(0, 1))
    np.testing.assert_allclose(limits, expected, rtol=1e-9)


def test_lazy_images_are_predicted_chunk_by_chunk_like_in_memory(network, tmp_path):
    import tifffile
    import zarr

    image = (np.tile(make_blobs()[0], (3, 3))[:280, :370]).clip(0, 255).astype(np.uint8)
    expected = predict(network, image, probabilities=True)
    lazy = predict(network, da.from_array(image, chunks=(100, 90)), tile=128)
    assert isinstance(lazy, da.Array) and lazy.shape == image.shape
    assert lazy.numblocks[0] > 1 and lazy.numblocks[1] > 1  # really chunked
    labels = lazy.compute()
    store = zarr.open(str(tmp_path / "image.zarr"), mode="w", shape=image.shape, dtype="u1")
    store[:] = image
    scores = predict(network, store, tile=128, probabilities=True).compute()
    # the whole image, border included: chunks at the border see what in-memory tiles see
    assert np.abs(scores - expected).max() < 1e-4
    decided = np.abs(expected[..., 1] - expected[..., 0]) > 1e-3  # not a float coin toss
    np.testing.assert_array_equal(labels[decided], expected.argmax(-1)[decided])
    tifffile.imwrite(tmp_path / "image.tif", image)
    mapped = tifffile.memmap(tmp_path / "image.tif", mode="r")
    np.testing.assert_array_equal(predict(network, mapped, tile=128).compute(), labels)


def _object_scores(objects):
    """Ideal background/object/boundary scores of an instance image."""
    boundary = find_boundaries(objects, mode="inner") & (objects > 0)
    scores = np.zeros((*objects.shape, 3), np.float32)
    scores[..., 0] = objects == 0
    scores[..., 1] = (objects > 0) & ~boundary
    scores[..., 2] = boundary
    return scores


def test_objects_cut_by_chunk_borders_keep_one_id():
    objects = np.zeros((160, 200), np.uint16)
    centres = [
        (31, 31),
        (31, 64),
        (70, 95),
        (100, 40),
        (128, 160),
        (60, 160),
        (140, 100),
        (100, 62),
    ]
    for i, centre in enumerate(centres, 1):
        objects[disk(centre, 11, shape=objects.shape)] = i
    scores = da.from_array(_object_scores(objects), chunks=(32, 32, 3))
    stitched = stitch_instances(scores, {"min_size": 4}).compute()
    assert stitched.max() == len(centres)
    for i in range(1, len(centres) + 1):
        ids = np.unique(stitched[objects == i])
        ids = ids[ids > 0]
        assert len(ids) == 1, (i, ids)  # one ID per object, whichever chunks it spans
    ids = {int(np.unique(stitched[objects == i])[-1]) for i in range(1, len(centres) + 1)}
    assert len(ids) == len(centres)  # and touching objects (4 and 8) stay apart


@pytest.mark.slow
def test_lazy_instance_prediction_agrees_with_in_memory():
    image, labels = make_blobs()
    model = train(image, label(labels > 0), mode="instance", instance_head="boundary", epochs=4,
                  **TINY)  # fmt: skip  # the seeded watershed across chunks (flows: the next)
    big = np.tile(image, (2, 2))
    memory = predict(model, big)
    lazy = predict(model, da.from_array(big, chunks=(96, 128)), tile=128).compute()
    assert lazy.shape == memory.shape and lazy.max() == len(np.unique(lazy)) - 1  # 1..N
    inside = [_interior(x, receptive_margin(2)) for x in (lazy, memory)]
    agreement = evaluate(*inside, instance=True)  # same objects, whichever chunks they span
    assert agreement["f1_50"] > 0.95, agreement["f1_50"]


def test_a_flow_model_predicts_lazy_images_chunk_by_chunk():
    model = untrained_model(training={"mode": "instance"}, flow=True)
    image, _ = make_blobs()
    big = np.tile(image, (2, 2))
    memory = predict(model, big)
    lazy = predict(model, da.from_array(big, chunks=(96, 128)), tile=128)
    assert isinstance(lazy, da.Array) and min(lazy.numblocks) > 1  # really chunked
    labels = lazy.compute()
    assert labels.shape == memory.shape == big.shape
    assert labels.max() == len(np.unique(labels)) - 1  # numbered 1..N across the chunks
