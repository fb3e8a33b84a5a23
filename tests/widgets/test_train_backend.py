"""The Train dock's *backend*: its worker process trains on the framework it shows, and the
model it gives back predicts in the viewer's process on another."""

import importlib.util

import numpy as np
import pytest

from helpers import error_messages
from napari_segdl.core.backend import wanted_backend

pytestmark = [pytest.mark.gui, pytest.mark.slow, pytest.mark.usefixtures("fresh_session")]

TRAIN_TIMEOUT = 300_000  # ms


def test_the_train_dock_trains_on_the_backend_it_shows(make_napari_viewer, qtbot):
    other = "torch" if wanted_backend() == "tensorflow" else "tensorflow"
    if importlib.util.find_spec(other) is None:
        pytest.skip(f"{other} is not installed")
    viewer = make_napari_viewer()
    viewer.open_sample("napari-segdl", "nuclei")
    _, train = viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    offered = list(train.backend.choices)
    assert "" in offered and other in offered  # the default, then each installed framework
    row = train.pairs.rows[0]
    row.image.value = viewer.layers["nuclei"]
    row.labels_layer.value = viewer.layers["nuclei masks"]
    train.epochs.value, train.patch.value, train.batch.value = 1, 64, 4
    train.filters.value, train.depth.value = 4, 2
    train.backend.value = other
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TRAIN_TIMEOUT)
    assert train.model is not None, (train.status.value, error_messages())
    framework = {"torch": "PyTorch", "tensorflow": "TensorFlow"}[other]
    assert f"({framework}" in train.device.value, train.device.value
    first = train.process.pid
    train.backend.value = ""  # back to the default: a new worker process at the next job
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TRAIN_TIMEOUT)
    assert train.model is not None, (train.status.value, error_messages())
    assert train.process.pid != first
    default = {"torch": "PyTorch", "tensorflow": "TensorFlow"}[wanted_backend()]
    assert f"({default}" in train.device.value, train.device.value
    scores = train.model.keras_model.predict_on_batch(np.zeros((1, 64, 64, 1), np.float32))
    assert np.asarray(scores).shape == (1, 64, 64, 2)
