"""The Train dock's workbench: several pairs, stacks, live curves and preview, folded settings."""

import numpy as np
import pytest

from helpers import error_messages, make_blobs

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("fresh_session")]

TIMEOUT = 300_000  # ms


def _dock(viewer, epochs=2):
    _, train = viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    train.epochs.value = epochs
    train.patch.value, train.batch.value, train.filters.value, train.depth.value = 32, 4, 8, 2
    train.max_time.value = 0
    return train


def _stack_layers(viewer, depth=3, painted=(1,)):
    pairs = [make_blobs(seed=z) for z in range(depth)]
    image = viewer.add_image(np.stack([p[0] for p in pairs]), name="stack", scale=(2, 1, 1))
    labels = np.zeros((depth, *pairs[0][1].shape), np.uint8)
    for z in painted:
        labels[z] = pairs[z][1]
    return image, viewer.add_labels(labels, name="stack labels", scale=(2, 1, 1))


@pytest.mark.slow
def test_several_pairs_with_add_and_remove_rows(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    train = _dock(viewer)
    (a_image, a_labels), (b_image, b_labels) = make_blobs(seed=1), make_blobs(seed=2)
    layers = [
        viewer.add_image(a_image, name="a"),
        viewer.add_labels(a_labels, name="a labels"),
        viewer.add_image(b_image, name="b"),
        viewer.add_labels(b_labels, name="b labels"),
    ]
    assert not train.pairs.rows[0].remove_button.enabled  # one row stays
    train.pairs.add_button.native.click()
    third = train.pairs.add_row()
    assert len(train.pairs.rows) == 3 and third.image.choices  # new rows list the layers
    third.remove_button.native.click()
    assert len(train.pairs.rows) == 2
    (first, second) = train.pairs.rows
    first.image.value, first.labels_layer.value = layers[0], layers[1]
    second.image.value, second.labels_layer.value = layers[0], layers[1]
    train.train_button.native.click()
    assert not train.running
    assert any(
        "Image layer 'a' with labels layer 'a labels' is chosen twice" in e
        for e in error_messages()
    )

    second.image.value, second.labels_layer.value = layers[2], layers[3]
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert train.model is not None, error_messages()
    assert train.model.info.training["pairs"] == 2
    assert train.last_run.data == ["a + a labels", "b + b labels"]


@pytest.mark.slow
def test_a_stack_trains_on_its_painted_slice_and_predicts_every_slice(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    train = _dock(viewer)
    image, labels = _stack_layers(viewer)
    before = labels.data.copy()
    train.pairs.rows[0].image.value, train.pairs.rows[0].labels_layer.value = image, labels
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert train.model is not None, error_messages()
    assert train.model.info.training["slices"] == {"trained": 1, "total": 3}
    np.testing.assert_array_equal(labels.data, before)

    _, predict = viewer.window.add_plugin_dock_widget("napari-segdl", "Predict")
    predict.images.value = [image]
    predict.predict_button.native.click()
    qtbot.waitUntil(lambda: not predict.running, timeout=TIMEOUT)
    result = viewer.layers["stack prediction"]
    assert result.data.shape == image.data.shape
    np.testing.assert_array_equal(result.scale, (2, 1, 1))


@pytest.mark.slow
def test_labels_of_one_slice_for_a_stack_are_refused_clearly(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    train = _dock(viewer)
    image, _ = _stack_layers(viewer)
    flat = viewer.add_labels(make_blobs()[1], name="flat")
    train.pairs.rows[0].image.value, train.pairs.rows[0].labels_layer.value = image, flat
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert train.model is None
    assert any("labels layer 'flat' covers one slice" in e for e in error_messages()), (
        error_messages()
    )


@pytest.mark.slow
def test_live_curves_and_preview_of_the_slice_on_screen(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    train = _dock(viewer, epochs=3)
    image, labels = _stack_layers(viewer, painted=(0, 2))
    viewer.dims.set_current_step(0, 2)  # slice 2 on screen
    train.pairs.rows[0].image.value, train.pairs.rows[0].labels_layer.value = image, labels
    train.live_preview.value = True
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert train.model is not None, error_messages()
    epochs = train.model.info.training["epochs_run"]
    assert "best epoch" in train.status.value, train.status.value
    assert len(train.display.plot.values("loss")) == epochs
    assert len(train.display.plot.values("val_iou")) == epochs
    assert train.display.plot.curves["loss"].getData()[0].tolist() == list(range(1, epochs + 1))
    preview = viewer.layers["stack preview"]
    assert preview.data.shape == image.data.shape[1:]
    assert preview.metadata["napari_segdl"]["preview_epoch"] == epochs
    np.testing.assert_array_equal(preview.scale, (1, 1))


def test_advanced_settings_are_folded_and_reach_the_config(make_napari_viewer):
    viewer = make_napari_viewer()
    train = _dock(viewer)
    assert train.advanced.native.isHidden()  # folded away
    train.show_advanced.value = True
    assert not train.advanced.native.isHidden()
    train.augment_deform.value = train.augment_intensity.value = True
    train.mixed_precision.value = "off"
    config = train.config()
    assert (config.augment_deform, config.augment_intensity, config.mixed_precision) == (
        True,
        True,
        "off",
    )
    train.preset.value = "accurate-gpu"
    assert train.augment_deform.value and train.filters.value == 32


@pytest.mark.slow
def test_rows_with_different_recipes_or_no_layer_are_refused(make_napari_viewer):
    viewer = make_napari_viewer()
    train = _dock(viewer)
    image, labels = make_blobs()
    raw = viewer.add_image(image, name="raw")
    smoothed = viewer.add_image(
        image,
        name="smoothed",
        metadata={"napari_segdl": {"recipe": {"napari_segdl_recipe": 1, "steps": []}}},
    )
    painted = viewer.add_labels(labels, name="painted")
    first, second = train.pairs.rows[0], train.pairs.add_row()
    first.image.value, first.labels_layer.value = raw, painted
    second.image.value, second.labels_layer.value = smoothed, painted
    train.train_button.native.click()
    assert not train.running
    assert any(
        "'raw', 'smoothed' went through different preprocessing" in e for e in error_messages()
    )
    viewer.layers.remove(painted)  # rows now lack a labels layer
    train.train_button.native.click()
    assert not train.running
    assert any(
        "Choose an image layer and a labels layer in every row" in e for e in error_messages()
    )
