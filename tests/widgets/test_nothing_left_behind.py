"""Nothing is left in the temporary folder: not by the docks' worker process (its models, its
standard error), not by models sent to it as bytes, not by a lazy prediction."""

import os
import tempfile

import numpy as np
import pytest

from helpers import sample_train_dock

pytestmark = [pytest.mark.gui, pytest.mark.slow, pytest.mark.usefixtures("fresh_session")]

TIMEOUT = 300_000  # ms


@pytest.fixture
def temporary_folder(tmp_path, monkeypatch):
    """A temporary folder of this test's own, for this process and the processes it starts."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_a_dock_session_and_a_lazy_prediction_leave_no_temporary_file(
    make_napari_viewer, qtbot, temporary_folder, trained_model
):
    import dask.array as da

    from napari_segdl import predict
    from napari_segdl._widgets._common import SESSION_MODELS

    viewer = make_napari_viewer()
    train = sample_train_dock(viewer)
    train.train_button.native.click()
    qtbot.waitUntil(lambda: train.model is not None and not train.running, timeout=TIMEOUT)
    assert os.listdir(temporary_folder), "the worker process keeps its files in this folder"

    name = SESSION_MODELS.add("in memory", trained_model)  # travels to the worker as bytes
    _, dock = viewer.window.add_plugin_dock_widget("napari-segdl", "Predict")
    dock.images.value = [viewer.layers["nuclei"]]
    dock.model.value = name
    dock.predict_button.native.click()
    qtbot.waitUntil(lambda: not dock.running, timeout=TIMEOUT)
    assert "nuclei prediction" in viewer.layers, dock.status.value

    image = da.from_array(np.asarray(viewer.layers["nuclei"].data, np.float32), chunks=128)
    assert np.asarray(predict(trained_model, image)).shape == image.shape
    viewer.close()
    qtbot.waitUntil(lambda: not os.listdir(temporary_folder), timeout=10_000)
