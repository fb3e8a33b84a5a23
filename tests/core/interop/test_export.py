"""BioImage Model Zoo export: packages that bioimageio.core's own model test passes, offline,
for every weight format; bad requests refused by name."""

import os
import zipfile

import numpy as np
import pytest

from helpers import TINY, make_blobs
from napari_segdl import export_bioimageio, train
from napari_segdl.core.backend import wanted_backend
from napari_segdl.core.errors import SegDLError
from napari_segdl.core.preprocess import Recipe

pytestmark = pytest.mark.slow

#: The weights a package gets from the backend it was exported on, beside ONNX and Keras.
NATIVE = {"tensorflow": "tensorflow_saved_model_bundle", "torch": "torchscript"}[wanted_backend()]


@pytest.fixture(scope="module")
def models():
    image, labels = make_blobs(shape=(96, 128))
    return {arch: train(image, labels, epochs=1, arch=arch, **TINY) for arch in ("unet", "segnet")}


def _bioimageio_test(path, weight_format):
    from bioimageio.core import test_model

    summary = test_model(path, weight_format=weight_format)
    failed = [
        f"{d.name}: {[e.msg[:200] for e in d.errors]}"
        for d in summary.details
        if d.status == "failed"
    ]
    return summary.status, failed


@pytest.mark.parametrize(
    ("arch", "formats"),
    [
        ("unet", ["onnx", NATIVE, "keras_v3"]),
        ("segnet", ["onnx", NATIVE]),
    ],
)
@pytest.mark.both_backends
def test_exports_pass_the_model_zoo_test_in_every_weight_format(models, tmp_path, arch, formats):
    path = tmp_path / f"{arch}.zip"
    report = export_bioimageio(
        models[arch], path, authors=["Ada Lovelace"], cite=[("A paper", "10.1234/abcd")]
    )
    assert report.path == path and report.formats == formats
    names = zipfile.ZipFile(path).namelist()
    assert {"rdf.yaml", "README.md", "cover.png", "test_input.npy", "test_output.npy"} <= set(
        names
    )
    for weight_format in formats:
        status, failed = _bioimageio_test(path, weight_format)
        assert status == "passed", failed
    if arch == "segnet":
        assert any("SegNet" in w for w in report.warnings)
    # bioimageio.core's Keras backend sets KERAS_BACKEND for the process (torch by default),
    # which later subprocesses inherit: it stays the backend this Keras runs on
    assert os.environ["KERAS_BACKEND"] == wanted_backend()


def test_the_package_describes_sizes_halo_and_labels(models, tmp_path):
    from bioimageio.spec import load_model_description

    model = models["unet"]
    export_bioimageio(model, tmp_path / "m.zip", authors=["A"])
    descr = load_model_description(tmp_path / "m.zip", perform_io_checks=False)
    y_in = descr.inputs[0].axes[1]
    assert (y_in.size.min, y_in.size.step) == (52, 4)  # grid 4, twice the 24-pixel halo + 4
    assert descr.outputs[0].axes[1].halo == model.geometry.margin == 24
    config = descr.config.model_extra["napari_segdl"]
    assert config["label_values"] == [0, 255] and config["label_mode"] == "dense"
    assert [p.id for p in descr.inputs[0].preprocessing][:2] == ["ensure_dtype", "scale_range"]


def test_bad_requests_are_refused(models, tmp_path):
    model = models["unet"]
    taken = tmp_path / "taken.zip"
    taken.write_bytes(b"")
    with pytest.raises(SegDLError, match="exists; choose another name or overwrite"):
        export_bioimageio(model, taken)
    with pytest.raises(SegDLError, match=r"is a \.zip file"):
        export_bioimageio(model, tmp_path / "model.keras")
    with pytest.raises(SegDLError, match="takes 2D images with 1 channel"):
        export_bioimageio(model, tmp_path / "rgb.zip", image=np.zeros((64, 64, 3)))
    assert taken.read_bytes() == b""  # nothing the user made is changed


def test_recipe_steps_the_spec_cannot_express_are_named(models, tmp_path):
    model = models["unet"]
    model.info.recipe = Recipe.coerce([{"op": "gaussian", "sigma": 1.0}]).to_dict()
    try:
        report = export_bioimageio(model, tmp_path / "r.zip", overwrite=True)
    finally:
        model.info.recipe = {}
    assert any("'gaussian'" in w for w in report.warnings)
    card = zipfile.ZipFile(tmp_path / "r.zip").read("README.md").decode()
    assert "**gaussian**" in card and "## Validation" in card


def test_the_command_exports_the_bundled_model_and_refuses_to_overwrite(tmp_path, capsys):
    from napari_segdl.cli import main

    out = tmp_path / "nuclei.zip"
    args = ["export", "nuclei", "--bioimageio", str(out), "--author", "Grace Hopper"]
    assert main([*args, "--cite", "DSB 2018=10.1038/s41592-019-0612-7"]) == 0
    assert f"wrote {out} (onnx, {NATIVE}, keras_v3)" in capsys.readouterr().out
    assert main(args) == 2
    assert "exists; choose another name or overwrite" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0


KERAS_ALONE = """
import sys, zipfile, numpy as np, keras
package = zipfile.ZipFile(sys.argv[1])
name = next(n for n in package.namelist() if n.endswith(".keras"))
package.extract(name, sys.argv[2])
network = keras.models.load_model(f"{sys.argv[2]}/{name}")  # compiles, as the zoo's tools do
x = np.load(package.open("test_input.npy")).astype("float32")
print(network.predict(x, verbose=0).shape)
print(sorted(m for m in sys.modules if m.startswith("napari_segdl")))
"""


def test_keras_weights_load_where_napari_segdl_is_not_imported(tmp_path):
    """As ilastik or BiaPy would: plain Keras, default (compiling) load, no package code.
    The network trains in float32, so it is the compiled training network itself."""
    import subprocess
    import sys

    image, labels = make_blobs(shape=(64, 64))
    model = train(image, labels, epochs=1, mixed_precision="off", **TINY)
    assert model.keras_model.compiled
    export_bioimageio(model, tmp_path / "m.zip")
    done = subprocess.run(
        [sys.executable, "-c", KERAS_ALONE, str(tmp_path / "m.zip"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1] == "[]"
