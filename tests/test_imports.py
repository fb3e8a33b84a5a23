"""Opening napari, listing the plugin or loading the sample must not import TensorFlow."""

import subprocess
import sys

CHECK = """
import sys
import napari_segdl
from npe2 import PluginManifest
manifest = PluginManifest.from_distribution("napari-segdl")
assert {w.display_name for w in manifest.contributions.widgets} == {"Preprocess", "Train", "Predict", "Evaluate", "Runs"}
from napari_segdl._sample_data import nuclei
layers = nuclei()
assert [kind for *_, kind in layers] == ["image", "labels", "labels", "labels"]
import napari_segdl.cli, napari_segdl._widgets.train, napari_segdl._widgets.predict, napari_segdl._widgets.preprocess, napari_segdl._widgets.evaluate, napari_segdl._widgets.runs
heavy = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
print(heavy)
"""


def test_import_and_manifest_do_not_import_tensorflow():
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


OPEN_JPEG = """
import sys
import numpy as np
from PIL import Image
Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(sys.argv[1])
from napari_segdl._reader import get_reader
(data, kwargs, kind), = get_reader(sys.argv[1])(sys.argv[1])
assert kind == "image" and data.shape == (8, 8, 3) and kwargs["rgb"]
print(sorted(m for m in ("tensorflow", "keras", "rawpy", "av") if m in sys.modules))
"""


def test_opening_a_jpeg_imports_neither_tensorflow_nor_raw_or_video_decoders(tmp_path):
    path = str(tmp_path / "photo.jpg")
    result = subprocess.run(
        [sys.executable, "-c", OPEN_JPEG, path], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
