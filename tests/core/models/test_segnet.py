"""SegNet: index pooling/unpooling with keras.ops, shapes, training, bundle round trip."""

import numpy as np
import pytest

from helpers import TINY, make_blobs
from napari_segdl import SegDLError, load_model, predict, train
from napari_segdl.core.models.segnet import build_segnet
from napari_segdl.core.train.config import TrainConfig


def test_unpooling_puts_each_maximum_back_where_it_was():
    from napari_segdl.core.models.pooling import MaxPoolingWithArgmax2D, MaxUnpooling2D

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6, 8, 3)).astype(np.float32)
    pooled, indices = (np.asarray(t) for t in MaxPoolingWithArgmax2D()(x))
    windows = x.reshape(2, 3, 2, 4, 2, 3).transpose(0, 1, 3, 5, 2, 4).reshape(2, 3, 4, 3, 4)
    np.testing.assert_allclose(pooled, windows.max(-1))
    np.testing.assert_array_equal(indices, windows.argmax(-1))
    restored = np.asarray(MaxUnpooling2D()([pooled, indices]))
    expected = np.where(x == np.repeat(np.repeat(pooled, 2, 1), 2, 2), x, 0)
    np.testing.assert_allclose(restored, expected)


@pytest.mark.parametrize(("channels", "classes"), [(1, 1), (3, 3)])
@pytest.mark.parametrize("depth", [2, 4])
def test_output_shape_for_any_multiple_of_two_to_the_depth(channels, classes, depth):
    model = build_segnet(channels, classes, depth=depth, filters=4)
    size = 2**depth
    out = model.predict_on_batch(np.zeros((2, size * 3, size * 2, channels), np.float32))
    assert out.shape == (2, size * 3, size * 2, classes)
    assert out.dtype == np.float32
    names = [layer.name for layer in model.layers]
    assert len(names) == len(set(names)) and "enc0_pool" in names and "dec0_unpool" in names


@pytest.mark.slow
@pytest.mark.both_backends
def test_segnet_trains_saves_and_loads_in_safe_mode(tmp_path):
    image, labels = make_blobs()
    model = train(image, labels, arch="segnet", epochs=2, **TINY)
    assert model.info.arch == "segnet"
    before = predict(model, image, probabilities=True)
    loaded = load_model(model.save(tmp_path / "segnet.keras"))
    np.testing.assert_allclose(predict(loaded, image, probabilities=True), before, atol=1e-5)
    assert predict(loaded, image[:50, :70]).shape == (50, 70)  # padded to the pooling multiple


def test_segnet_patch_must_divide_by_its_pooling():
    with pytest.raises(SegDLError, match=r"patch 100 is not a multiple of 2\*\*depth = 16"):
        TrainConfig(arch="segnet", depth=4, patch=100)
    with pytest.raises(SegDLError, match="depth"):
        build_segnet(1, 2, depth=6)


def test_cli_offers_segnet():
    from napari_segdl.cli import build_parser

    args = build_parser().parse_args(["train", "a", "b", "--out", "m.keras", "--arch", "segnet"])
    assert args.arch == "segnet"
