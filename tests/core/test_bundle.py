import json
import zipfile

import numpy as np
import pytest

import napari_segdl
from napari_segdl import load_model, predict
from napari_segdl.core.bundle import METADATA_ENTRY, read_metadata
from napari_segdl.core.errors import SegDLError


@pytest.mark.slow
def test_round_trip_keeps_metadata_and_predictions(trained_model, blobs, tmp_path):
    path = trained_model.save(tmp_path / "model.keras")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]  # no temp files left
    loaded = load_model(path)
    info = loaded.info
    assert info.arch == "unet" and info.channels == 1 and info.patch == 32
    assert info.classes["values"] == [0, 255] and info.classes["mode"] == "dense"
    assert info.normalization["method"] == "percentile"
    assert info.versions["napari_segdl"] == napari_segdl.__version__
    assert len(info.history["loss"]) == 3 and info.training["epochs"] == 3
    np.testing.assert_array_equal(predict(loaded, blobs[0]), predict(trained_model, blobs[0]))


@pytest.mark.slow
def test_bundle_loads_in_keras_safe_mode(trained_model, tmp_path):
    import keras

    path = trained_model.save(tmp_path / "model.keras")
    network = keras.saving.load_model(path, safe_mode=True, compile=False)
    assert network.output_shape == (None, None, None, 2)


def test_files_that_are_not_bundles_are_refused(tmp_path):
    import keras

    text = tmp_path / "notes.keras"
    text.write_text("hello")
    other_zip = tmp_path / "archive.keras"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("config.json", "{}")
    plain = tmp_path / "plain.keras"
    inputs = keras.Input((4,))
    keras.Model(inputs, keras.layers.Dense(1)(inputs)).save(plain)
    for path in (text, other_zip, plain):
        with pytest.raises(SegDLError, match="is not a napari-segdl model bundle"):
            load_model(path)
    with pytest.raises(SegDLError, match="does not exist"):
        load_model(tmp_path / "missing.keras")


@pytest.mark.slow
def test_newer_bundle_format_is_refused(trained_model, tmp_path):
    path = trained_model.save(tmp_path / "model.keras")
    newer = tmp_path / "newer.keras"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(newer, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == METADATA_ENTRY:
                data = json.dumps({**json.loads(data), "format": 99})
            target.writestr(name, data)
    with pytest.raises(SegDLError, match="newer napari-segdl"):
        read_metadata(newer)


@pytest.mark.slow
def test_save_needs_a_keras_file_in_an_existing_folder(trained_model, tmp_path):
    with pytest.raises(SegDLError, match=r"end in \.keras"):
        trained_model.save(tmp_path / "model.h5")
    with pytest.raises(SegDLError, match="does not exist"):
        trained_model.save(tmp_path / "missing" / "model.keras")


def test_a_bundle_holds_the_network_without_the_optimizer_state(tmp_path):
    from napari_segdl.core.backend import load_keras
    from napari_segdl.core.bundle import ModelInfo, SegModel, load_model
    from napari_segdl.core.labels.modes import ClassMap
    from napari_segdl.core.models import build_model

    keras = load_keras()
    network = build_model("unet", 1, 2, depth=2, filters=8)
    network.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    network.fit(np.zeros((2, 16, 16, 1)), np.zeros((2, 16, 16, 2)), verbose=0)  # Adam's state
    classes = ClassMap.from_labels([np.array([[0, 1]])], "dense")
    info = ModelInfo("unet", {"depth": 2, "filters": 8}, classes.to_dict(), 1, {}, 16)
    path = SegModel(network, info).save(tmp_path / "m.keras")
    network.save(tmp_path / "with-optimizer.keras")
    assert path.stat().st_size < 0.6 * (tmp_path / "with-optimizer.keras").stat().st_size
    reloaded = load_model(path).keras_model
    for a, b in zip(reloaded.get_weights(), network.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
