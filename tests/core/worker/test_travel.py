"""What travels to the worker process and stays with a run: models as files, run data kept."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from napari_segdl import predict
from napari_segdl.core.bundle import SegModel, load_model
from napari_segdl.core.errors import SegDLError
from napari_segdl.core.models.bundled import BUNDLED
from napari_segdl.core.train.rundata import RunData, load_run_data, run_folder, save_run_data


def test_a_model_from_a_file_reads_no_network_and_travels_as_its_path():
    code = (
        "import sys, pickle\n"
        "from napari_segdl.core.bundle import SegModel\n"
        "from napari_segdl.core.models.bundled import BUNDLED\n"
        "model = SegModel.from_file(BUNDLED.path('nuclei'))\n"
        "assert model.class_map.mode == 'instance'\n"
        "print(len(pickle.dumps(model)), 'tensorflow' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    size, tensorflow = out.stdout.split()
    assert int(size) < 20_000 and tensorflow == "False"  # metadata and a path, not 8 MB


def test_a_model_in_memory_travels_as_its_bundle(trained_model, tmp_path):
    copy = pickle.loads(pickle.dumps(trained_model))
    assert copy.path is not None and copy.path.is_file()
    image = np.random.default_rng(0).normal(40, 8, (64, 64)).astype(np.float32)
    np.testing.assert_array_equal(predict(copy, image), predict(trained_model, image))
    os.remove(copy.path)


def test_an_unloaded_model_saves_as_a_copy_of_its_bundle(tmp_path):
    model = SegModel.from_file(BUNDLED.path("nuclei"))
    path = model.save(tmp_path / "copy.keras")
    assert path.read_bytes() == BUNDLED.path("nuclei").read_bytes()
    assert load_model(path).info.arch == "unet"


def _data():
    rng = np.random.default_rng(0)
    images = [rng.normal(size=(40, 50)).astype(np.float32), rng.integers(0, 255, (3, 20, 20))]
    labels = [np.eye(40, 50, dtype=np.uint8), np.zeros((3, 20, 20), np.uint16)]
    regions = [np.ones((40, 50), bool), np.zeros((3, 20, 20), bool)]
    return RunData(images, labels, [("a", "a labels"), ("b", "b labels")], regions)


def test_run_data_are_kept_compressed_and_read_back_exactly(tmp_path):
    data = _data()
    path, kept = save_run_data(data, tmp_path)
    assert kept and path == tmp_path / "data.npz"
    back = load_run_data(path)
    assert back.names == data.names
    for a, b in zip(
        [*data.images, *data.labels, *data.regions],
        [*back.images, *back.labels, *back.regions],
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype


def test_run_data_over_the_cap_are_not_kept(tmp_path):
    data = _data()
    path, kept = save_run_data(data, tmp_path, cap_mib=data.nbytes / 2**20 / 2)
    assert not kept and path.parent != tmp_path and not (tmp_path / "data.npz").exists()
    assert load_run_data(path).names == data.names  # the child still reads them
    path.unlink()
    with pytest.raises(SegDLError, match="not kept: over the size cap, or removed"):
        load_run_data(path)


def test_a_run_folder_that_cannot_be_written_is_refused(tmp_path):
    blocked = tmp_path / "a file"
    blocked.write_text("not a folder")  # no folder can be made under it, even by root
    with pytest.raises(SegDLError, match="Cannot write the run's data and model to"):
        run_folder("abc", blocked / "runs.jsonl")
