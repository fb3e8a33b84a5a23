"""Volumes in the viewer: NIfTI opens with its spacing as scale; the Train dock offers 3D for
stacks, trains a 3D network with the layer's scale as spacing, and Predict gives a 3D layer."""

import numpy as np
import pytest

from helpers import error_messages, make_balls
from volume_files import nifti

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("fresh_session")]

TIMEOUT = 300_000  # ms


def test_the_viewer_opens_a_nifti_volume_with_its_spacing(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    stored = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    (layer,) = viewer.open(str(nifti(tmp_path / "scan.nii.gz", stored)), plugin="napari-segdl")
    assert layer.data.shape == (5, 4, 6)
    np.testing.assert_allclose(layer.scale, (0.7, 0.5, 3.0), rtol=1e-6)
    assert layer.metadata["orientation_on_disk"] == "PSL"


def test_3d_is_offered_for_stacks_only(make_napari_viewer):
    viewer = make_napari_viewer()
    _, train = viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    flat = viewer.add_image(np.zeros((32, 32)), name="flat")
    volume = viewer.add_image(np.zeros((8, 32, 32)), name="volume")
    row = train.pairs.rows[0]
    row.image.value = flat
    assert not train.dims.enabled and train.dims.value == 2
    row.image.value = volume
    assert train.dims.enabled
    train.dims.value = 3
    assert train.config().dims == 3
    row.image.value = flat  # back to a 2D image: 2D again
    assert train.dims.value == 2 and not train.dims.enabled


def test_3d_chooses_settings_that_fit_and_the_dock_refuses_what_does_not(
    make_napari_viewer, qtbot, monkeypatch
):
    monkeypatch.setenv("NAPARI_SEGDL_MEMORY_GIB", "18")
    viewer = make_napari_viewer()
    _, train = viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    volume = viewer.add_image(np.zeros((100, 100, 100), np.float32), scale=(2.2, 1, 1))
    labels = viewer.add_labels(np.zeros((100, 100, 100), np.uint16))
    labels.data[40:60, 40:60, 40:60] = 1
    row = train.pairs.rows[0]
    row.image.value, row.labels_layer.value = volume, labels
    train.mode.value = "instance"
    train.dims.value = 3
    assert (train.depth.value, train.filters.value, train.batch.value) == (3, 16, 2)
    assert (train.patch.value, train.patch_z.value) == (64, 16)
    assert train.status.value.startswith("3D settings chosen for this volume")
    train.patch.value, train.batch.value, train.filters.value = 256, 8, 32  # the 2D defaults
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert any(
        "would need about 25.0 GiB" in m and "lower the patch" in m for m in error_messages()
    )
    assert train.model is None


@pytest.mark.slow
def test_a_3d_network_trains_on_a_volume_layer_and_predicts_it(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    image, labels = make_balls(shape=(16, 48, 48))
    volume = viewer.add_image(image, name="volume", scale=(2.5, 1, 1))
    painted = viewer.add_labels(
        (labels > 0).astype(np.uint8), name="volume labels", scale=(2.5, 1, 1)
    )
    _, train = viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    train.pairs.rows[0].image.value, train.pairs.rows[0].labels_layer.value = volume, painted
    train.dims.value = 3
    train.epochs.value, train.max_time.value = 2, 0
    train.patch.value, train.patch_z.value, train.batch.value = 32, 8, 2
    train.filters.value, train.depth.value = 4, 2
    train.live_preview.value = True
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert train.model is not None, error_messages()
    assert train.model.info.arch_params["dims"] == 3
    assert train.model.info.arch_params["z_skip"] == 1  # z 2.5x coarser: in-plane pooling first
    assert train.model.info.training["spacing"] == [2.5, 1.0, 1.0]
    preview = viewer.layers["volume preview"]
    assert preview.data.shape == image.shape
    np.testing.assert_array_equal(preview.scale, (2.5, 1, 1))

    _, predict = viewer.window.add_plugin_dock_widget("napari-segdl", "Predict")
    predict.images.value = [volume]
    predict.predict_button.native.click()
    qtbot.waitUntil(lambda: not predict.running, timeout=TIMEOUT)
    result = viewer.layers["volume prediction"]
    assert result.data.shape == image.shape, error_messages()
    np.testing.assert_array_equal(result.scale, (2.5, 1, 1))
