"""Mixed precision, several devices (two logical CPUs) and out-of-memory advice."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import TINY, tensorflow_only
from napari_segdl import load_model, predict, train
from napari_segdl.core.errors import SegDLError
from napari_segdl.core.train.devices import out_of_memory_advice, wants_mixed_precision

TESTS = Path(__file__).parents[2]

#: Two logical CPU devices must be made before TensorFlow starts: a fresh interpreter.
MIRRORED = """
import json, sys
sys.path.insert(0, {tests!r})
from napari_segdl.core.backend import load_keras
load_keras()
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from helpers import TINY, make_blobs
from napari_segdl import predict, train
from napari_segdl.core.errors import SegDLError
image, labels = make_blobs()
model = train(image, labels, distribute="mirrored", epochs=2, **TINY)
try:
    train(image, labels, distribute="mirrored", epochs=1, **{{**TINY, "batch": 3}})
except SegDLError as error:
    odd = str(error)
print(json.dumps({{
    "distributed": model.info.training["distributed"],
    "epochs": model.info.training["epochs_run"],
    "val_iou": model.info.history["val_iou"],
    "prediction": list(predict(model, image).shape),
    "odd_batch": odd,
}}))
"""


@pytest.mark.slow
@tensorflow_only
def test_two_devices_train_one_model_with_mirrored_strategy():
    script = MIRRORED.format(tests=str(TESTS))
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["distributed"] == "MirroredStrategy over 2 devices"
    assert result["epochs"] == 2 and all(0 <= v <= 1 for v in result["val_iou"])
    assert result["prediction"] == [96, 128]
    assert (
        "batch 3 does not split evenly over 2 devices; use a multiple of 2"
        in (result["odd_batch"])
    )


@pytest.mark.slow
def test_mixed_precision_trains_with_float32_outputs_and_reloads(blobs, tmp_path):
    image, labels = blobs
    model = train(image, labels, mixed_precision="on", epochs=1, **TINY)
    assert model.info.training["mixed_precision"] == "mixed_float16"
    assert model.keras_model.dtype_policy.name == "mixed_float16"
    assert model.keras_model.outputs[0].dtype == "float32"
    assert np.isfinite(model.info.history["loss"]).all()
    reloaded = load_model(model.save(tmp_path / "mixed.keras"))
    np.testing.assert_array_equal(predict(reloaded, image), predict(model, image))
    plain = train(image, labels, epochs=1, **TINY)
    # auto: float32 here, or bfloat16 on a CPU with bfloat16 instructions, float16 on a GPU
    assert plain.info.training["mixed_precision"] == wants_mixed_precision("auto")
    # a bfloat16-trained network is handed back in float32, for float32 predictions
    gpu = wants_mixed_precision("auto") == "mixed_float16"
    assert plain.keras_model.dtype_policy.name == ("mixed_float16" if gpu else "float32")


def test_out_of_memory_becomes_advice():
    from napari_segdl.core.backend import load_keras

    load_keras()
    import tensorflow as tf

    error = tf.errors.ResourceExhaustedError(
        None, None, "OOM when allocating tensor with shape[16,32,512,512] and type float"
    )
    advice = out_of_memory_advice(error, 16, 512)
    assert isinstance(advice, SegDLError)
    assert "batches of 16 patches of 512x512" in str(advice)
    assert "smaller batch (e.g. 8) or patch (256)" in str(advice)
    jax_style = RuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate")
    assert out_of_memory_advice(jax_style, 2, 64) is not None
    assert out_of_memory_advice(ValueError("shapes do not match"), 8, 256) is None


@pytest.mark.slow
@pytest.mark.parametrize(
    ("field", "value"), [("mixed_precision", "fp16"), ("distribute", "everywhere")]
)
def test_unknown_device_settings_are_refused(blobs, field, value):
    image, labels = blobs
    with pytest.raises(SegDLError, match=f"{field} must be one of"):
        train(image, labels, **{field: value}, **TINY)


@pytest.mark.slow
@pytest.mark.both_backends
def test_bfloat16_trains_with_float32_outputs(blobs):
    from napari_segdl.core.train.devices import wants_mixed_precision

    assert wants_mixed_precision("bfloat16") == "mixed_bfloat16"
    assert wants_mixed_precision("off") is None
    image, labels = blobs
    model = train(image, labels, mixed_precision="bfloat16", epochs=1, **TINY)
    assert model.info.training["mixed_precision"] == "mixed_bfloat16"
    scores = predict(model, image, probabilities=True)
    assert scores.dtype == np.float32 and np.allclose(scores.sum(-1), 1, atol=1e-3)


@pytest.mark.parametrize(
    ("message", "device"),
    [
        ("CUDA out of memory. Tried to allocate 2.00 GiB", "The CUDA GPU (PyTorch)"),
        ("MPS backend out of memory (MPS allocated: 17.00 GB)", "The Apple GPU (PyTorch's MPS)"),
    ],
)
def test_pytorch_out_of_memory_says_so_in_pytorch_words(message, device):
    advice = out_of_memory_advice(RuntimeError(message), 16, 512)
    assert str(advice).startswith(f"{device} ran out of memory training batches of 16")
    assert "smaller batch (e.g. 8) or patch (256)" in str(advice)
    assert "PyTorch keeps memory it freed for reuse" in str(advice)
