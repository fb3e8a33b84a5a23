import numpy as np
import pytest

from napari_segdl.core.errors import SegDLError
from napari_segdl.core.models import build_model
from napari_segdl.core.models.unet import build_unet


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("classes", [1, 3])
def test_output_shape(channels, classes):
    model = build_unet(channels, classes, depth=2, filters=8)
    out = model.predict_on_batch(np.zeros((2, 32, 48, channels), np.float32))
    assert out.shape == (2, 32, 48, classes)
    assert np.all((out >= 0) & (out <= 1))
    if classes > 1:
        np.testing.assert_allclose(out.sum(-1), 1.0, atol=1e-5)


@pytest.mark.parametrize("depth", [2, 3, 4, 5])
def test_depths_accept_multiples_of_two_to_the_depth(depth):
    model = build_unet(1, 2, depth=depth, filters=4, batch_norm=False, dropout=0.2)
    size = 2**depth
    assert model.predict_on_batch(np.zeros((1, size, 2 * size, 1))).shape == (1, size, 2 * size, 2)


def test_every_layer_is_named():
    names = [layer.name for layer in build_unet(1, 2, depth=2, filters=8).layers]
    assert len(names) == len(set(names))
    assert "down0_conv1" in names and "classifier_softmax" in names
    assert build_unet(1, 2, depth=2, filters=8).output.dtype == "float32"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_channels": 0}, "input_channels"),
        ({"num_classes": 0}, "num_classes"),
        ({"depth": 1}, "depth"),
        ({"depth": 6}, "depth"),
        ({"filters": 0}, "filters"),
        ({"dropout": 1.0}, "dropout"),
        ({"depth": 2.5}, "depth"),
    ],
)
def test_invalid_arguments_are_named(kwargs, message):
    params = {"input_channels": 1, "num_classes": 2, **kwargs}
    with pytest.raises(SegDLError, match=f"{message}.*Received"):
        build_unet(**params)


def test_registry_rejects_unknown_architecture():
    with pytest.raises(SegDLError, match="Unknown architecture 'resnet'"):
        build_model("resnet", 1, 2)


@pytest.mark.parametrize("arch", ["unet", "segnet"])
def test_a_distance_head_adds_one_channel_after_the_probabilities(arch):
    model = build_model(arch, 1, 3, depth=2, filters=8, distance_head=True)
    out = model.predict_on_batch(np.zeros((1, 32, 32, 1), np.float32))
    assert out.shape == (1, 32, 32, 4) and out.dtype == np.float32
    np.testing.assert_allclose(out[..., :3].sum(-1), 1.0, atol=1e-5)
    assert np.all((out[..., 3] > 0) & (out[..., 3] < 1))
    assert {"distance_sigmoid", "outputs"} <= {layer.name for layer in model.layers}


@pytest.mark.parametrize("arch", ["unet", "segnet"])
def test_a_flow_head_adds_two_unbounded_channels_after_the_probabilities(arch):
    model = build_model(arch, 1, 3, depth=2, filters=8, flow_head=True)
    out = model.predict_on_batch(np.random.default_rng(0).normal(size=(1, 32, 32, 1)))
    assert out.shape == (1, 32, 32, 5) and out.dtype == np.float32
    np.testing.assert_allclose(out[..., :3].sum(-1), 1.0, atol=1e-5)
    assert out[..., 3:].min() < 0 < out[..., 3:].max()
    with pytest.raises(SegDLError, match="flow head is for 2D"):
        build_model(arch, 1, 3, depth=2, filters=8, flow_head=True, dims=3)
