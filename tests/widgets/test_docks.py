"""The docks in a real napari viewer (under Xvfb via pytest-xvfb), through the manifest."""

from pathlib import Path

import numpy as np
import pytest
from napari.utils.notifications import notification_manager

from helpers import error_messages, gone
from napari_segdl import evaluate
from napari_segdl._widgets._common import SESSION_MODELS
from napari_segdl.core.train.runs import RunLog

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("fresh_session")]

TRAIN_TIMEOUT = 300_000  # ms; training a tiny model takes seconds, TF's first import more


def _docks(viewer):
    viewer.open_sample("napari-segdl", "nuclei")
    _, train = viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    _, predict = viewer.window.add_plugin_dock_widget("napari-segdl", "Predict")
    return train, predict


def _tiny(train, labels="nuclei masks", mode="dense", epochs=6):
    row = train.pairs.rows[0]
    row.image.value = train._viewer.layers["nuclei"]
    row.labels_layer.value = train._viewer.layers[labels]
    train.mode.value = mode
    train.epochs.value = epochs
    train.patch.value, train.batch.value, train.filters.value, train.depth.value = 64, 8, 8, 2
    train.lr.value = 0.003


@pytest.mark.slow
def test_train_then_predict_through_the_manifest(make_napari_viewer, qtbot, tmp_path):
    viewer = make_napari_viewer()
    train, predict = _docks(viewer)
    assert {"nuclei", "nuclei masks", "nuclei scribbles"} <= {
        layer.name for layer in viewer.layers
    }
    masks_before = viewer.layers["nuclei masks"].data.copy()
    _tiny(train)
    train.train_button.native.click()
    assert train.running and train.stop_button.enabled and not train.train_button.enabled
    qtbot.waitUntil(lambda: not train.running, timeout=TRAIN_TIMEOUT)
    assert train.model is not None, error_messages()
    assert train.model.info.training["epochs_run"] >= 1
    assert "best epoch" in train.status.value
    # the dock says where it trained: "CPU only (...)" here, "GPU: <name>" on a GPU machine
    assert train.device.value == train.model.info.training["device"]
    assert train.device.value.startswith(("CPU only", "GPU: "))
    np.testing.assert_array_equal(viewer.layers["nuclei masks"].data, masks_before)

    predict.images.value = [viewer.layers["nuclei"]]
    assert predict.model.value  # the trained model is offered in the Predict dock
    predict.predict_button.native.click()
    qtbot.waitUntil(lambda: not predict.running, timeout=TRAIN_TIMEOUT)
    assert "nuclei prediction" in viewer.layers, (predict.status.value, error_messages())
    layer = viewer.layers["nuclei prediction"]
    assert layer.data.shape == viewer.layers["nuclei"].data.shape
    assert set(np.unique(layer.data)) <= {0, 1}
    np.testing.assert_array_equal(layer.scale, viewer.layers["nuclei"].scale)
    assert layer.metadata["napari_segdl"]["classes"]["values"] == [0, 1]
    score = evaluate(layer.data, masks_before)
    assert score["iou"]["per_class"]["1"] > 0.5, score  # chance level is about 0.2

    train.save_path.value = tmp_path / "nuclei.keras"
    train.save_button.native.click()
    assert (tmp_path / "nuclei.keras").is_file()
    (run,) = RunLog().runs()  # the run is recorded, with where its model was saved
    assert run["data"] == ["nuclei + nuclei masks"] and run["best_val_iou"] is not None
    assert run["bundle"] == str((tmp_path / "nuclei.keras").resolve())
    predict.model_file.value = tmp_path / "nuclei.keras"
    predict.load_button.native.click()
    qtbot.waitUntil(lambda: predict.model.value == "nuclei", timeout=TRAIN_TIMEOUT)


@pytest.mark.slow
def test_scribbles_and_stop(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    train, _ = _docks(viewer)
    _tiny(train, labels="nuclei scribbles", mode="sparse", epochs=500)
    train.train_button.native.click()
    qtbot.waitUntil(lambda: "step" in train.status.value, timeout=TRAIN_TIMEOUT)
    train.stop_button.native.click()
    train.stop_button.native.click()  # pressing Stop twice is harmless
    qtbot.waitUntil(lambda: not train.running, timeout=TRAIN_TIMEOUT)
    assert train.model.info.training["ended"] == "stopped"
    assert train.model.class_map.values == (1, 2)
    assert "stopped" in train.status.value


@pytest.mark.slow
def test_bad_layers_are_reported_and_left_unchanged(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    train, predict = _docks(viewer)
    empty = viewer.add_labels(np.zeros((256, 256), np.uint8), name="empty")
    _tiny(train, labels="empty", mode="sparse")
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TRAIN_TIMEOUT)
    assert train.model is None
    assert any("labels layer 'empty': nothing is painted" in e for e in error_messages()), (
        train.status.value,
        notification_manager.records,
    )
    assert not empty.data.any()

    train.pairs.rows[0].labels_layer.value = viewer.layers["nuclei masks"]
    train.patch.value = 48  # not a multiple of 2**5 = 32
    train.depth.value = 5
    train.train_button.native.click()
    assert not train.running
    assert any("patch 48 is not a multiple of 2**depth = 32" in e for e in error_messages())

    predict.images.value = []  # (a model is always there: the bundled one is listed first)
    predict.predict_button.native.click()
    assert not predict.running
    assert any("Choose one or more image layers to predict" in e for e in error_messages())
    predict.model_file.value = viewer.layers["nuclei"].source.path or "missing.keras"
    predict.load_button.native.click()
    assert any("Choose a model file (.keras, or a Model Zoo .zip)" in e for e in error_messages())


@pytest.mark.slow
def test_closing_the_viewer_while_training(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    train, _ = _docks(viewer)
    _tiny(train, epochs=500)
    train.train_button.native.click()
    qtbot.waitUntil(lambda: "step" in train.status.value, timeout=TRAIN_TIMEOUT)
    pid = train.process.pid
    viewer.close()
    qtbot.waitUntil(lambda: not train.running, timeout=TRAIN_TIMEOUT)
    assert gone(pid), "the worker process outlived its viewer"


@pytest.mark.slow
def test_instance_mode_and_segnet_in_the_docks(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    train, predict = _docks(viewer)
    _tiny(train, labels="nuclei instances", mode="instance", epochs=4)
    train.arch.value = "segnet"
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TRAIN_TIMEOUT)
    assert train.model is not None, error_messages()
    assert (train.model.info.arch, train.model.class_map.mode) == ("segnet", "instance")
    predict.images.value = [viewer.layers["nuclei"]]
    predict.predict_button.native.click()
    qtbot.waitUntil(lambda: not predict.running, timeout=TRAIN_TIMEOUT)
    objects = viewer.layers["nuclei prediction"].data
    assert objects.shape == (256, 256) and objects.max() == len(np.unique(objects)) - 1


@pytest.mark.slow
def test_continue_training_from_the_model_of_this_session(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    train, _ = _docks(viewer)
    _tiny(train, epochs=2)
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TRAIN_TIMEOUT)
    first = train.model
    checkpoint = first.info.training["checkpoint"]  # written to the default folder
    assert Path(checkpoint).parent == RunLog().path.parent / "checkpoints"
    assert Path(checkpoint).is_file()
    bundled = {"Nuclei (bundled)"}
    (name,) = [n for n in SESSION_MODELS.names() if n not in bundled]
    assert [c for c in train.start_from.choices if c and c not in bundled] == [name]
    train.start_from.value = name
    train.epochs.value = 1
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TRAIN_TIMEOUT)
    assert train.model is not first, error_messages()
    assert train.model.info.training["continued_from"]["epochs_run"] == 2
    assert len([n for n in SESSION_MODELS.names() if n not in bundled]) == 2
