"""3D U-Net and SegNet: shapes, in-plane pooling for coarse z, SegNet's 3D indices, geometry."""

import numpy as np
import pytest

from napari_segdl.core.bundle import ModelInfo, SegModel, load_model
from napari_segdl.core.errors import SegDLError
from napari_segdl.core.models import build_model, geometry
from napari_segdl.core.models.geometry import axis_margin, receptive_margin, z_skip_for
from napari_segdl.core.models.pooling import MaxPoolingWithArgmax3D, MaxUnpooling3D


@pytest.mark.parametrize("arch", ["unet", "segnet"])
@pytest.mark.parametrize(("z_skip", "depth"), [(0, 16), (1, 8), (2, 4)])
def test_volume_in_volume_out(arch, z_skip, depth):
    network = build_model(arch, 2, 3, depth=2, filters=4, dims=3, z_skip=z_skip)
    assert network.input_shape == (None, None, None, None, 2)
    scores = network.predict_on_batch(
        np.random.default_rng(0).random((1, depth, 16, 12, 2)).astype("float32")
    )
    assert scores.shape == (1, depth, 16, 12, 3)
    assert np.allclose(scores.sum(-1), 1, atol=1e-5)


def test_coarse_z_is_pooled_in_plane_first():
    network = build_model("unet", 1, 2, depth=3, filters=4, dims=3, z_skip=2)
    pools = [layer for layer in network.layers if layer.name.endswith("_pool")]
    assert [tuple(p.pool_size) for p in pools] == [(1, 2, 2), (1, 2, 2), (2, 2, 2)]
    found = geometry("unet", {"depth": 3, "filters": 4, "dims": 3, "z_skip": 2})
    assert (found.z_multiple, found.size_multiple, found.dims) == (2, 8, 3)
    assert found.multiples == (2, 8, 8) and found.margins[1:] == (found.margin,) * 2
    assert 0 < found.z_margin < found.margin  # fewer poolings along z: less context


def test_anisotropy_sets_the_levels_pooled_in_plane():
    assert [z_skip_for(r, 4) for r in (1.0, 1.9, 2.0, 2.18, 4.0, 10.0, 100.0)] == [
        0, 0, 1, 1, 2, 3, 3,
    ]  # fmt: skip
    assert z_skip_for(100.0, 3) == 2  # at least one level pools along z


def test_axis_margin_agrees_with_the_2d_margin():
    for depth in (2, 3, 4, 5):
        assert axis_margin([2] * depth) == receptive_margin(depth)
    assert axis_margin([1, 1, 2]) < axis_margin([2, 2, 2])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"dims": 4}, "dims"),
        ({"dims": 3, "z_skip": 3}, "z_skip"),
        ({"dims": 2, "z_skip": 1}, "z_skip"),
        ({"dims": 3, "z_skip": -1}, "z_skip"),
    ],
)
def test_bad_arguments_are_refused(params, message):
    with pytest.raises(SegDLError, match=message):
        build_model("unet", 1, 2, depth=2, filters=4, **params)


@pytest.mark.parametrize("pool_z", [1, 2])
def test_segnet_3d_unpooling_puts_maxima_back(pool_z):
    x = np.random.default_rng(0).random((2, 4, 6, 8, 3)).astype("float32")
    maxima, indices = MaxPoolingWithArgmax3D(pool_z=pool_z)(x)
    maxima, indices = np.asarray(maxima), np.asarray(indices)
    windows = x.reshape(2, 4 // pool_z, pool_z, 3, 2, 4, 2, 3)
    assert np.allclose(maxima, windows.max(axis=(2, 4, 6)))
    back = np.asarray(MaxUnpooling3D(pool_z=pool_z)([maxima, indices]))
    assert back.shape == x.shape
    kept = back != 0
    assert np.allclose(back[kept], x[kept])  # every value put back where it came from
    assert kept.sum() == maxima.size


def test_a_3d_segnet_bundle_reloads_in_safe_mode(tmp_path):
    network = build_model("segnet", 1, 2, depth=2, filters=4, dims=3, z_skip=1)
    info = ModelInfo(
        arch="segnet",
        arch_params={"depth": 2, "filters": 4, "dims": 3, "z_skip": 1},
        classes={"mode": "dense", "values": [0, 1], "names": ["0", "1"], "dtype": "uint8"},
        channels=1,
        normalization={"method": "percentile", "low": 1.0, "high": 99.8},
        patch=32,
    )
    path = SegModel(network, info).save(tmp_path / "segnet3d.keras")
    loaded = load_model(path)
    x = np.random.default_rng(0).random((1, 4, 16, 16, 1)).astype("float32")
    assert np.allclose(loaded.keras_model.predict_on_batch(x), network.predict_on_batch(x))
    assert loaded.geometry.dims == 3 and loaded.geometry.z_multiple == 2
