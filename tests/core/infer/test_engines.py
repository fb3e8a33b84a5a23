"""ONNX Runtime and OpenVINO run the same network as Keras: the same probabilities within
1e-4 in float32, through tiles, test-time augmentation and lazy chunks."""

import dask.array as da
import numpy as np
import pytest

from helpers import untrained_model
from napari_segdl import predict
from napari_segdl.core.errors import SegDLError
from napari_segdl.core.infer.runners import AUTO_MIN_PIXELS, check_engine, resolve


@pytest.fixture(scope="module")
def model():
    import keras

    keras.utils.set_random_seed(3)
    return untrained_model()


IMAGE = np.random.default_rng(0).random((200, 184)).astype(np.float32)


@pytest.mark.parametrize("engine", ["onnxruntime", "openvino"])
def test_float32_engines_match_keras(model, engine):
    expected = predict(model, IMAGE, probabilities=True, engine="keras")
    for options in ({}, {"tile": 160}, {"tta": True}):
        reference = predict(model, IMAGE, probabilities=True, engine="keras", **options)
        scores = predict(model, IMAGE, probabilities=True, engine=engine, **options)
        assert np.abs(scores - reference).max() < 1e-4, options
    lazy = predict(model, da.from_array(IMAGE, chunks=100), probabilities=True, engine=engine)
    assert np.abs(lazy.compute() - expected).max() < 1e-4
    assert getattr(model, "engine", "keras") == "keras"  # the caller's model unchanged


def test_reduced_precision_runs_close_to_float32(model):
    reference = predict(model, IMAGE, probabilities=True, engine="keras")
    scores = predict(model, IMAGE, probabilities=True, engine="openvino-bf16")
    assert scores.shape == reference.shape and np.abs(scores - reference).max() < 0.05


def test_auto_keeps_small_images_on_keras():
    assert resolve("auto", 100 * 100) == "keras"
    assert resolve("auto", AUTO_MIN_PIXELS) == "openvino"  # installed with the test extras
    assert resolve("onnxruntime", 10) == "onnxruntime"


def test_an_unknown_engine_is_refused(model):
    with pytest.raises(SegDLError, match="Unknown engine 'cuda'; choose one of auto"):
        check_engine("cuda")
    with pytest.raises(SegDLError, match="engine must be one of auto, keras"):
        predict(model, IMAGE, engine="tpu")


@pytest.mark.parametrize("engine", ["onnxruntime", "openvino"])
def test_a_converted_network_follows_its_weights(engine):
    import keras

    keras.utils.set_random_seed(4)
    model = untrained_model()  # its own network: the module's stays as it is
    first = predict(model, IMAGE, probabilities=True, engine=engine)
    network = model.keras_model
    network.set_weights([w * 0.5 for w in network.get_weights()])  # e.g. another epoch's
    again = predict(model, IMAGE, probabilities=True, engine=engine)
    reference = predict(model, IMAGE, probabilities=True, engine="keras")
    assert np.abs(again - reference).max() < 1e-4 and np.abs(again - first).max() > 1e-3
