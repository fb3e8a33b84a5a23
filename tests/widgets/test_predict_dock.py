"""The Predict dock at scale: many layers, probability maps, lazy layers, Cancel."""

import dask.array as da
import numpy as np
import pytest

from helpers import error_messages, make_blobs
from napari_segdl._widgets._common import SESSION_MODELS

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("fresh_session")]

TIMEOUT = 300_000  # ms


@pytest.fixture
def dock(make_napari_viewer, trained_model, fresh_session):
    viewer = make_napari_viewer()
    SESSION_MODELS.add("blobs", trained_model)
    _, predict = viewer.window.add_plugin_dock_widget("napari-segdl", "Predict")
    predict.model.value = "blobs"
    return viewer, predict


@pytest.mark.slow
def test_many_layers_with_probability_maps_and_a_bad_one(dock, qtbot):
    viewer, predict = dock
    a = viewer.add_image(make_blobs(seed=1)[0], name="a", scale=(0.5, 0.5), translate=(10, 0))
    b = viewer.add_image(make_blobs(seed=2)[0], name="b")
    rgb = viewer.add_image(np.dstack([make_blobs()[0]] * 3).astype(np.uint8), name="rgb")
    predict.images.value = [a, rgb, b]
    predict.probabilities.value = True
    predict.threshold.value = 0.7
    predict.predict_button.native.click()
    qtbot.waitUntil(lambda: not predict.running, timeout=TIMEOUT)
    assert any("image layer 'rgb' has 3 channel(s)" in e for e in error_messages())
    for layer in (a, b):
        labels = viewer.layers[f"{layer.name} prediction"]
        assert labels.data.shape == layer.data.shape
        np.testing.assert_array_equal(labels.scale, layer.scale)
        np.testing.assert_array_equal(labels.translate, layer.translate)
        record = labels.metadata["napari_segdl"]
        assert record["engine"] == "keras"  # auto keeps small images on Keras
        assert (record["model"], record["threshold"], record["source"]) == (
            "blobs",
            0.7,
            layer.name,
        )
        foreground = viewer.layers[f"{layer.name} p(class 255)"]
        np.testing.assert_array_equal(labels.data == 255, foreground.data >= 0.7)
    assert "rgb prediction" not in viewer.layers


def test_a_dask_layer_gives_a_lazy_prediction(dock, qtbot):
    viewer, predict = dock
    image = np.tile(make_blobs()[0], (2, 2)).clip(0, 255).astype(np.uint8)
    layer = viewer.add_image(da.from_array(image, chunks=(96, 128)), name="lazy")
    predict.images.value = [layer]
    predict.tile.value = 128
    predict.predict_button.native.click()
    qtbot.waitUntil(lambda: not predict.running, timeout=TIMEOUT)
    result = viewer.layers["lazy prediction"]
    assert isinstance(result.data, da.Array)
    assert np.asarray(result.data[:96, :128]).shape == (96, 128)


def _predict_big(viewer, predict, qtbot) -> np.ndarray:
    """Start predicting a 1152 x 1280 layer in 128-pixel tiles; return once a tile is done."""
    big = np.tile(make_blobs()[0], (12, 10))
    predict.images.value = [viewer.add_image(big, name="big")]
    predict.tile.value = 128
    predict.predict_button.native.click()
    assert predict.cancel_button.enabled
    qtbot.waitUntil(
        lambda: predict.progress_bar is not None and predict.progress_bar.n > 0, timeout=TIMEOUT
    )
    return big


def test_cancel_stops_at_the_next_tile(dock, qtbot):
    viewer, predict = dock
    _predict_big(viewer, predict, qtbot)
    predict.cancel_button.native.click()
    qtbot.waitUntil(lambda: not predict.running, timeout=TIMEOUT)
    assert predict.status.value == "Cancelled; 0 layer(s) added."
    assert "big prediction" not in viewer.layers
    assert not predict.cancel_button.enabled and predict.predict_button.enabled


@pytest.mark.slow
def test_a_worker_killed_while_predicting_is_reported_and_the_next_predict_works(dock, qtbot):
    import os
    import signal

    viewer, predict = dock
    big = _predict_big(viewer, predict, qtbot)
    os.kill(predict.process.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: not predict.running, timeout=TIMEOUT)
    assert error_messages()[-1] == (
        "The worker process was killed (SIGKILL: out of memory, or ended from outside); your "
        "layers are untouched. Press Predict to start again."
    )
    np.testing.assert_array_equal(viewer.layers["big"].data, big)
    predict.tile.value = 0
    predict.images.value = [viewer.add_image(make_blobs()[0], name="small")]
    predict.predict_button.native.click()
    qtbot.waitUntil(lambda: not predict.running, timeout=TIMEOUT)
    assert "small prediction" in viewer.layers, error_messages()
