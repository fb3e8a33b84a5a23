"""Keras' backend chosen per process (NAPARI_SEGDL_BACKEND, KERAS_BACKEND, --backend): refused
with one line when its framework is missing; models cross between TensorFlow and PyTorch."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import TINY, make_blobs
from napari_segdl import load_model, predict, train
from napari_segdl.core.backend import (
    FRAMEWORKS,
    choose_backend,
    describe_devices,
    load_keras,
    wanted_backend,
)
from napari_segdl.core.errors import SegDLError

TESTS = str(Path(__file__).parents[1])

#: Runs the napari-segdl command with PyTorch hidden, as on a machine without it.
WITHOUT_TORCH = """
import sys
sys.modules["torch"] = None
from napari_segdl.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _other_backend() -> str:
    other = "torch" if load_keras().backend.backend() == "tensorflow" else "tensorflow"
    if importlib.util.find_spec(other) is None:
        pytest.skip(f"{other} is not installed")
    return other


def _env(**changes) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND",)}
    return env | changes


def test_an_unknown_backend_is_refused():
    with pytest.raises(SegDLError, match="Unknown backend 'mxnet'; choose one of tensorflow"):
        choose_backend("mxnet")


def test_an_unknown_backend_setting_is_refused_by_the_command(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "napari_segdl.cli",
            "predict",
            "nuclei",
            str(tmp_path),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        env=_env(NAPARI_SEGDL_BACKEND="mxnet"),
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "napari-segdl: error: Unknown backend 'mxnet'; choose one of tensorflow, torch, jax."
    ]


def test_keras_on_another_backend_is_refused_with_what_to_do():
    other = "torch" if load_keras().backend.backend() == "tensorflow" else "tensorflow"
    with pytest.raises(SegDLError, match=f"start again with NAPARI_SEGDL_BACKEND={other}"):
        choose_backend(other)
    assert choose_backend(None) == load_keras().backend.backend() == wanted_backend()


@pytest.mark.parametrize("how", ["flag", "NAPARI_SEGDL_BACKEND", "KERAS_BACKEND"])
def test_a_backend_without_its_framework_is_one_line_of_advice(tmp_path, how):
    image = tmp_path / "image.tif"
    image.write_bytes(b"")  # never read: the backend is refused first
    args = ["predict", "nuclei", str(image), "--out", str(tmp_path / "out")]
    flag, env = (["--backend", "torch"], _env()) if how == "flag" else ([], _env())
    if how != "flag":
        env[how] = "torch"
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_TORCH, *flag, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "napari-segdl: error: The torch backend needs PyTorch, not installed: pip install "
        "'napari-segdl[torch]' (docs/install.md: CPU-only or CUDA)."
    ]
    assert not (tmp_path / "out").exists()


def test_the_version_and_the_device_line_name_the_backend():
    for backend, framework in (("tensorflow", "TensorFlow"), ("torch", "PyTorch")):
        done = subprocess.run(
            [sys.executable, "-m", "napari_segdl.cli", "--version"],
            capture_output=True,
            text=True,
            env=_env(NAPARI_SEGDL_BACKEND=backend),
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert f" on {backend} ({framework}" in done.stdout, done.stdout
    assert FRAMEWORKS[load_keras().backend.backend()] in describe_devices()


CROSS = """
import json, sys
import numpy as np
sys.path.insert(0, {tests!r})
from helpers import TINY, make_blobs
from napari_segdl import load_model, predict, train
import keras  # after napari_segdl: on the backend it was told
image = np.load(sys.argv[1])
blobs, labels = make_blobs()
report = {{"backend": keras.backend.backend()}}
for arch in ("unet", "segnet"):
    model = load_model(f"{{sys.argv[2]}}/{{arch}}-here.keras")
    np.save(f"{{sys.argv[2]}}/{{arch}}-there.npy", predict(model, image, probabilities=True))
    model.save(f"{{sys.argv[2]}}/{{arch}}-there.keras")
    ours = train(blobs, labels, arch=arch, epochs=1, **{{**TINY, "depth": 2, "filters": 4}})
    network = ours.keras_model
    report[arch] = [network.count_params(), [type(layer).__name__ for layer in network.layers]]
print(json.dumps(report))
"""


@pytest.mark.slow
@pytest.mark.both_backends
def test_models_cross_between_tensorflow_and_pytorch(tmp_path):
    """Trained under this process's backend, loaded and saved again under the other: the same
    probabilities (within 1e-4) both ways, the same network and parameter count. (CI runs it
    under each backend: trained under TensorFlow, then under PyTorch.)"""
    other = _other_backend()
    blobs, labels = make_blobs()
    image = np.random.default_rng(1).random((72, 88)).astype(np.float32)
    np.save(tmp_path / "image.npy", image)
    here, trained = {}, {}
    for arch in ("unet", "segnet"):
        settings = {**TINY, "depth": 2, "filters": 4}
        trained[arch] = model = train(blobs, labels, arch=arch, epochs=1, **settings)
        model.save(tmp_path / f"{arch}-here.keras")
        here[arch] = predict(model, image, probabilities=True)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CROSS.format(tests=TESTS),
            str(tmp_path / "image.npy"),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=_env(NAPARI_SEGDL_BACKEND=other),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["backend"] == other
    for arch in ("unet", "segnet"):
        there = np.load(tmp_path / f"{arch}-there.npy")
        assert np.abs(there - here[arch]).max() < 1e-4, arch
        back = predict(load_model(tmp_path / f"{arch}-there.keras"), image, probabilities=True)
        assert np.abs(back - here[arch]).max() < 1e-4, arch
        network = trained[arch].keras_model  # trained here; trained there alike: the same
        layers = [type(layer).__name__ for layer in network.layers]
        assert report[arch] == [network.count_params(), layers], arch
