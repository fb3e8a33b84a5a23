"""Predict, see where the model is unsure, correct there, train on the checked parts."""

import numpy as np
import pytest

from helpers import TINY, error_messages, make_blobs
from napari_segdl._widgets._common import SESSION_MODELS

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("fresh_session")]

TIMEOUT = 300_000  # ms


@pytest.mark.slow
def test_the_uncertainty_layer_and_its_places_centre_the_view(
    make_napari_viewer, qtbot, trained_model
):
    viewer = make_napari_viewer()
    SESSION_MODELS.add("blobs", trained_model)
    image = viewer.add_image(make_blobs(seed=3)[0], name="cells", scale=(2.0, 2.0))
    _, predict = viewer.window.add_plugin_dock_widget("napari-segdl", "Predict")
    predict.model.value = "blobs"
    predict.images.value = [image]
    predict.uncertainty.value = True
    predict.predict_button.native.click()
    qtbot.waitUntil(lambda: not predict.running, timeout=TIMEOUT)
    doubt = viewer.layers["cells uncertainty"]
    assert doubt.data.shape == image.data.shape and 0 <= doubt.data.min() <= doubt.data.max() <= 1
    np.testing.assert_array_equal(doubt.scale, image.scale)
    assert predict.places.choices, "the least certain places are listed"
    _, place = predict.uncertain_places[0]
    assert place["uncertainty"] == max(p["uncertainty"] for _, p in predict.uncertain_places)
    predict.places.value = 0
    scene = getattr(viewer, "scene", None)
    camera = scene.camera if scene is not None else viewer.camera
    np.testing.assert_allclose(camera.center[-2:], np.array(place["centre"]) * 2.0)


def test_starting_from_a_model_suggests_fine_tuning(make_napari_viewer, trained_model):
    viewer = make_napari_viewer()
    SESSION_MODELS.add("blobs", trained_model)
    _, train = viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    train.start_from.value = "blobs"
    assert train.preset.value == "fine-tune"
    assert train.lr.value == pytest.approx(2e-4) and train.max_time.value == 60


@pytest.mark.slow
def test_training_only_inside_the_checked_shapes(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    image, labels = make_blobs()
    viewer.add_image(image, name="cells")
    viewer.add_labels(labels, name="corrected")
    checked = viewer.add_shapes([[[0, 0], [0, 63], [95, 63], [95, 0]]], name="checked")
    _, train = viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    row = train.pairs.rows[0]
    row.image.value, row.labels_layer.value = viewer.layers["cells"], viewer.layers["corrected"]
    train.epochs.value, train.patch.value, train.batch.value = 1, TINY["patch"], TINY["batch"]
    train.filters.value, train.depth.value = TINY["filters"], TINY["depth"]
    train.regions.value = checked
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert train.model is not None, error_messages()
    assert train.model.info.training["checked_pixels"] == 96 * 64


def test_checked_shapes_over_nothing_painted_are_refused(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    image, _ = make_blobs()
    viewer.add_image(image, name="cells")
    scribbles = np.zeros(image.shape, np.uint8)
    scribbles[:4, :4], scribbles[90:, 120:] = 1, 2
    viewer.add_labels(scribbles, name="scribbles")
    away = viewer.add_shapes([[[40, 40], [40, 60], [60, 60], [60, 40]]], name="away")
    _, train = viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    row = train.pairs.rows[0]
    row.image.value, row.labels_layer.value = viewer.layers["cells"], viewer.layers["scribbles"]
    train.mode.value, train.regions.value = "sparse", away
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert train.model is None
    assert any("The checked regions cover nothing painted" in e for e in error_messages())


@pytest.mark.slow
def test_the_bundled_model_is_first_and_predicts_without_training(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-segdl", "nuclei")
    _, predict = viewer.window.add_plugin_dock_widget("napari-segdl", "Predict")
    assert predict.model.choices[0] == "Nuclei (bundled)"
    assert [layer.name for layer in predict.images.value] == ["nuclei"]
    predict.model.value = "Nuclei (bundled)"
    predict.predict_button.native.click()
    qtbot.waitUntil(lambda: not predict.running, timeout=TIMEOUT)
    assert viewer.layers["nuclei prediction"].data.max() > 5, error_messages()
    assert not isinstance(SESSION_MODELS.get("Nuclei (bundled)"), str)  # kept once loaded


@pytest.mark.slow
def test_adapting_the_bundled_model_to_the_painted_sample(make_napari_viewer, qtbot):
    from helpers import sample_train_dock

    viewer = make_napari_viewer()
    train = sample_train_dock(viewer)  # its masks (0/1): numbered on request, as for training
    train.label_components.value = True
    train.start_from.value = "Nuclei (bundled)"
    train.adapt_button.native.click()
    assert not train.train_button.enabled  # one job at a time
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert train.start_from.value == "Nuclei (bundled) adapted", error_messages()
    adapted = SESSION_MODELS.get(train.start_from.value)
    record = adapted.info.training["adapted"]
    assert record["images"] == 1 and record["f1_50_after"] >= record["f1_50_before"]
    assert "F1@0.5 on the corrections" in train.status.value
    assert "ready in the Predict dock" in train.status.value


def test_adapting_refuses_corrections_without_objects_by_name(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    image, _ = make_blobs()
    viewer.add_image(image, name="cells")
    viewer.add_labels(np.zeros(image.shape, np.uint16), name="nothing yet")
    _, train = viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    row = train.pairs.rows[0]
    row.image.value, row.labels_layer.value = viewer.layers["cells"], viewer.layers["nothing yet"]
    train.adapt_button.native.click()  # no model chosen: said at once
    assert any("Choose the model to adapt" in m for m in error_messages())
    train.start_from.value = "Nuclei (bundled)"
    train.adapt_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert any("labels layer 'nothing yet': holds no object" in m for m in error_messages())
    assert train.status.value == "Nothing adapted: see the message."
    assert not viewer.layers["nothing yet"].data.any()


@pytest.mark.slow
def test_fine_tuning_the_bundled_model_in_the_dock_adapts_it_first_and_replays(
    make_napari_viewer, qtbot
):
    from helpers import sample_train_dock

    viewer = make_napari_viewer()
    train = sample_train_dock(viewer, patch=128)
    viewer.layers["nuclei masks"].visible = False
    row = train.pairs.rows[0]
    row.labels_layer.value = viewer.layers["nuclei instances"]
    train.start_from.value = "Nuclei (bundled)"
    train.epochs.value, train.batch.value = 1, 2
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert train.model is not None, error_messages()
    training = train.model.info.training
    assert training["adapted"]["images"] == 1
    assert training["replay_of"] == "nuclei" and training["replay_patches"] >= 2


@pytest.mark.slow
def test_stop_before_the_first_epoch_of_a_continued_run_gives_the_start_back(
    make_napari_viewer, qtbot, trained_model
):
    from napari_segdl import predict
    from napari_segdl.core.train.guard import KEPT_START

    viewer = make_napari_viewer()
    SESSION_MODELS.add("blobs", trained_model)
    image, labels = make_blobs(seed=4)
    viewer.add_image(image, name="cells")
    viewer.add_labels(labels, name="corrected")
    _, train = viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    row = train.pairs.rows[0]
    row.image.value, row.labels_layer.value = viewer.layers["cells"], viewer.layers["corrected"]
    train.start_from.value = "blobs"
    train.patch.value, train.batch.value = TINY["patch"], TINY["batch"]
    train.train_button.native.click()
    train.stop_button.native.click()  # before the first epoch ends
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert train.model is not None, error_messages()
    assert KEPT_START in train.status.value
    np.testing.assert_array_equal(
        predict(train.model, image, probabilities=True),
        predict(trained_model, image, probabilities=True),
    )


@pytest.mark.slow
def test_the_section_sample_round_in_the_dock_trains_on_its_checked_half(
    make_napari_viewer, qtbot
):
    from napari_segdl._sample_data import section_arrays

    viewer = make_napari_viewer()
    viewer.open_sample("napari-segdl", "section")
    corrections = viewer.layers["section corrections"].data.copy()
    _, train = viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    row = train.pairs.rows[0]
    row.image.value = viewer.layers["section"]
    row.labels_layer.value = viewer.layers["section corrections"]
    train.start_from.value = "Nuclei (bundled)"
    train.regions.value = viewer.layers["checked"]
    train.epochs.value, train.batch.value, train.patch.value = 1, 2, 128
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert train.model is not None, error_messages()
    training, checked = train.model.info.training, section_arrays()["checked"]
    replayed = training["replay_patches"]
    assert replayed == round(checked.sum() / 128**2)  # as many pixels as the half, not all
    assert training["checked_pixels"] == checked.sum() + replayed * 128**2  # replay: all of it
    np.testing.assert_array_equal(viewer.layers["section corrections"].data, corrections)
