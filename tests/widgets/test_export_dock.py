"""The Predict dock exports the chosen model as a BioImage Model Zoo package."""

import zipfile

import numpy as np
import pytest

from helpers import error_messages

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("fresh_session")]


@pytest.mark.slow
def test_the_predict_dock_exports_the_chosen_model(make_napari_viewer, qtbot, tmp_path):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-segdl", "nuclei")
    _, dock = viewer.window.add_plugin_dock_widget("napari-segdl", "Predict")
    dock.model.value = dock.model.choices[0]  # the bundled nuclei model
    dock.images.value = [viewer.layers["nuclei"]]
    dock.export.path.value = tmp_path / "nuclei.txt"
    dock.export.button.native.click()
    assert not dock.running and any("(.zip)" in e for e in error_messages())
    dock.export.path.value = tmp_path / "nuclei.zip"
    dock.export.authors.value = "Ada Lovelace, Grace Hopper"
    dock.export.button.native.click()
    qtbot.waitUntil(lambda: not dock.running, timeout=300_000)
    assert dock.status.value.startswith("Wrote nuclei.zip"), (dock.status.value, error_messages())
    with zipfile.ZipFile(tmp_path / "nuclei.zip") as package:
        rdf = package.read("rdf.yaml").decode()
        with package.open("test_input.npy") as stored:
            test_input = np.load(stored)
    assert "Ada Lovelace" in rdf and "Grace Hopper" in rdf
    assert test_input.shape[-1] == 1 and test_input.ndim == 4


@pytest.mark.slow
def test_the_predict_dock_runs_a_model_zoo_package(make_napari_viewer, qtbot, tmp_path):
    from helpers import TINY, make_blobs
    from napari_segdl import export_bioimageio, train

    image, labels = make_blobs(shape=(96, 128))
    export_bioimageio(train(image, labels, epochs=2, **TINY), tmp_path / "blobs.zip", image=image)
    viewer = make_napari_viewer()
    layer = viewer.add_image(image, name="blobs", scale=(0.5, 0.5))
    _, dock = viewer.window.add_plugin_dock_widget("napari-segdl", "Predict")
    dock.model_file.value = tmp_path / "blobs.zip"
    dock.load_button.native.click()
    qtbot.waitUntil(lambda: not dock.running, timeout=300_000)
    assert dock.model.value == "blobs", error_messages()
    _, train_dock = viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    assert "blobs" not in train_dock.start_from.choices  # packages only predict
    dock.images.value = [layer]
    dock.predict_button.native.click()
    qtbot.waitUntil(lambda: not dock.running, timeout=300_000)
    result = viewer.layers["blobs prediction"]
    assert result.data.shape == image.shape and set(np.unique(result.data)) <= {0, 255}
    np.testing.assert_array_equal(result.scale, (0.5, 0.5))
    assert result.metadata["napari_segdl"]["weight_format"] == "onnx"
    assert "blobs probabilities[1]" in viewer.layers
    dock.export.path.value = tmp_path / "again.zip"
    dock.export.button.native.click()  # a package is not exported again
    assert not dock.running
    assert any("'blobs' is a Model Zoo package already" in e for e in error_messages())
    assert not (tmp_path / "again.zip").exists()
