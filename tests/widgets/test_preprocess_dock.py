"""The Preprocess dock in a real viewer: edit a recipe, preview, apply, files, and the round trip
through the Train and Predict docks."""

import numpy as np
import pytest

from helpers import error_messages
from napari_segdl.core.preprocess import Recipe

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("fresh_session")]
TIMEOUT = 60_000  # ms, for preprocessing a 256 x 256 image
TRAIN_TIMEOUT = 300_000  # ms; TensorFlow's first import is part of it


def _dock(viewer):
    viewer.open_sample("napari-segdl", "nuclei")
    _, dock = viewer.window.add_plugin_dock_widget("napari-segdl", "Preprocess")
    dock.image.value = viewer.layers["nuclei"]
    return dock


def _add(dock, op, **params):
    dock.operation.value = op
    dock.add_button.native.click()
    for name, value in params.items():
        dock.params[name].value = value  # edits go through the parameter widgets


@pytest.mark.slow
def test_edit_preview_apply_and_recipe_files(make_napari_viewer, qtbot, tmp_path):
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    raw = viewer.layers["nuclei"].data.copy()
    _add(dock, "resize", factor=0.5)
    _add(dock, "gaussian", sigma=1.5)
    _add(dock, "median", radius=2)
    dock.up_button.native.click()  # median before gaussian
    assert [s.op for s in dock.recipe.steps] == ["resize", "median", "gaussian"]
    dock.remove_button.native.click()  # the selected (moved) median step
    assert [s.op for s in dock.recipe.steps] == ["resize", "gaussian"]
    assert dock.recipe.steps[1].params["sigma"] == 1.5

    dock.preview.value = True
    qtbot.waitUntil(lambda: "nuclei preview" in viewer.layers, timeout=TIMEOUT)
    assert viewer.layers["nuclei preview"].data.shape == (128, 128)
    # napari resets the docks' choices when layers change: the steps must stay listed
    assert len(dock.steps.choices) == 2 and dock.params.native.isVisibleTo(dock.native)

    dock.apply_button.native.click()
    qtbot.waitUntil(lambda: "nuclei preprocessed" in viewer.layers, timeout=TIMEOUT)
    out = viewer.layers["nuclei preprocessed"]
    assert out.data.shape == (128, 128) and out.data.dtype == np.float32
    assert out.metadata["napari_segdl"]["recipe"] == dock.recipe.to_dict()
    np.testing.assert_allclose(out.scale, [2.0, 2.0])  # lies over the raw image
    np.testing.assert_array_equal(viewer.layers["nuclei"].data, raw)

    masks = viewer.layers["nuclei masks"]
    viewer.layers.selection = {masks}
    dock.apply_selected_button.native.click()
    qtbot.waitUntil(lambda: "nuclei masks preprocessed" in viewer.layers, timeout=TIMEOUT)
    resized = viewer.layers["nuclei masks preprocessed"]
    assert resized.data.shape == (128, 128) and set(np.unique(resized.data)) == {0, 1}

    dock.save_file.value = tmp_path / "recipe.json"
    dock.save_button.native.click()
    dock.set_recipe(Recipe())
    dock.recipe_file.value = tmp_path / "recipe.json"
    dock.load_button.native.click()
    assert [s.op for s in dock.recipe.steps] == ["resize", "gaussian"]
    assert len(dock.steps.choices) == 2


def test_bad_recipes_and_layers_are_reported(make_napari_viewer, qtbot, tmp_path):
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    dock.apply_button.native.click()
    assert any("recipe is empty" in e for e in error_messages())
    _add(dock, "rgb_to_bgr")
    dock.apply_button.native.click()
    qtbot.waitUntil(lambda: any("needs an RGB" in e for e in error_messages()), timeout=TIMEOUT)
    assert any("image layer 'nuclei' is grey" in e for e in error_messages())
    assert "nuclei preprocessed" not in viewer.layers
    (tmp_path / "bad.json").write_text("{not json")
    dock.recipe_file.value = tmp_path / "bad.json"
    dock.load_button.native.click()
    assert any("bad.json" in e and "not valid JSON" in e for e in error_messages())
    _add(dock, "pick_channels")
    dock.params["order"].value = "0, x"
    assert "whole numbers" in dock.status.value


@pytest.mark.slow
def test_train_on_preprocessed_layers_then_predict_the_raw_image(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    _add(dock, "resize", factor=0.5)
    _add(dock, "gaussian", sigma=1.0)
    viewer.layers.selection = {viewer.layers["nuclei"], viewer.layers["nuclei masks"]}
    dock.apply_selected_button.native.click()
    qtbot.waitUntil(lambda: "nuclei masks preprocessed" in viewer.layers, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: "nuclei preprocessed" in viewer.layers, timeout=TIMEOUT)

    _, train = viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    _, predict = viewer.window.add_plugin_dock_widget("napari-segdl", "Predict")
    train.pairs.rows[0].image.value = viewer.layers["nuclei preprocessed"]
    train.pairs.rows[0].labels_layer.value = viewer.layers["nuclei masks preprocessed"]
    train.epochs.value, train.patch.value, train.batch.value = 2, 64, 4
    train.filters.value, train.depth.value = 8, 2
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TRAIN_TIMEOUT)
    assert train.model is not None, error_messages()
    assert train.model.info.recipe == dock.recipe.to_dict()

    for source, shape in (("nuclei", (256, 256)), ("nuclei preprocessed", (128, 128))):
        predict.images.value = [viewer.layers[source]]
        predict.predict_button.native.click()
        qtbot.waitUntil(lambda: not predict.running, timeout=TRAIN_TIMEOUT)
        name = f"{source} prediction"
        assert name in viewer.layers, (predict.status.value, error_messages())
        assert viewer.layers[name].data.shape == shape  # raw in, raw shape out; no double recipe
