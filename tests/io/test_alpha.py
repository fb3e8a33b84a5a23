"""RGBA images with a constant alpha (DSB 2018 PNGs, many exports) are RGB: read, trained and
predicted as three channels; an alpha that varies is kept only when asked for."""

import numpy as np
import pytest
from PIL import Image

from helpers import TINY, make_blobs
from napari_segdl import predict, train
from napari_segdl._reader import get_reader
from napari_segdl.core.images import drop_alpha
from napari_segdl.io.captures import read_capture


def _rgba(alpha) -> np.ndarray:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 200, (40, 48, 3), dtype=np.uint8)
    return np.concatenate([rgb, np.broadcast_to(alpha, (40, 48, 1)).astype(np.uint8)], -1)


def test_a_constant_alpha_is_read_as_rgb_and_said_in_the_metadata(tmp_path):
    path = tmp_path / "dsb.png"
    Image.fromarray(_rgba(255), "RGBA").save(path)
    capture = read_capture(path)
    np.testing.assert_array_equal(capture.data, _rgba(255)[..., :3])
    assert capture.metadata["alpha"] == "constant alpha (255) dropped: read as RGB"
    data, meta, _ = get_reader(str(path))(str(path))[0]
    assert np.shape(data)[-1] == 3 and meta["rgb"] and "alpha" in meta["metadata"]


def test_a_varying_alpha_is_kept_only_when_asked_for(tmp_path):
    varying = _rgba(np.arange(48, dtype=np.uint8)[None, :, None])
    path = tmp_path / "transparent.png"
    Image.fromarray(varying, "RGBA").save(path)
    dropped = read_capture(path)
    assert dropped.data.shape[-1] == 3 and "keep_alpha=True" in dropped.metadata["alpha"]
    kept = read_capture(path, keep_alpha=True)
    np.testing.assert_array_equal(kept.data, varying)


@pytest.mark.parametrize(
    ("channels", "constant", "expected"), [(3, True, 3), (4, True, 3), (4, False, 4), (1, True, 1)]
)
def test_only_a_constant_fourth_channel_is_dropped_in_memory(channels, constant, expected):
    image = np.zeros((8, 8, channels)) if channels > 1 else np.zeros((8, 8))
    if channels == 4 and not constant:
        image[0, 0, 3] = 1
    assert drop_alpha(image)[0].shape[-1] == (expected if channels > 1 else 8)


@pytest.mark.slow
def test_a_model_trained_on_rgba_takes_rgb_and_rgba(tmp_path):
    grey, labels = make_blobs()
    scaled = np.clip(grey * 2, 0, 255).astype(np.uint8)
    rgba = np.stack([scaled, scaled, scaled, np.full_like(scaled, 255)], -1)
    model = train(rgba, labels, epochs=1, **TINY)
    assert model.info.channels == 3
    assert model.info.training["alpha"] == ["constant alpha (255) dropped: read as RGB"]
    from_rgb = predict(model, rgba[..., :3])
    np.testing.assert_array_equal(predict(model, rgba), from_rgb)
    jpeg = tmp_path / "same.jpg"
    Image.fromarray(rgba[..., :3]).save(jpeg, quality=98)
    assert predict(model, read_capture(jpeg).data).shape == labels.shape
