"""Prediction engines on this CPU: TensorFlow, ONNX Runtime and OpenVINO (float32 and its
default reduced precision) on the same network and image; and how the tile size changes
TensorFlow's throughput on a 4096 x 4096 image.

    python bench/engines.py [--repeats 5] [--side 2048] [--big 4096]

The network is the bundled nuclei model (a 16-filter depth-4 U-Net); the image the nuclei sample
tiled to the side and normalised as prediction does. Engines run interleaved, ``repeats`` times
each; figures are medians. Differences are against TensorFlow's float32 probabilities; label
agreement is the share of pixels whose most probable class is TensorFlow's.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import load, machine, today
from napari_segdl import load_model
from napari_segdl._sample_data import nuclei_arrays
from napari_segdl.core.models.onnx import write_onnx


def engines(network, onnx_path: Path) -> dict:
    runners = {"tensorflow": lambda x: np.asarray(network.predict_on_batch(x))}
    try:
        import onnxruntime as ort

        session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        runners["onnxruntime"] = lambda x: session.run(None, {name: x})[0]
    except ImportError:
        print("onnxruntime not installed")
    try:
        import openvino as ov

        core = ov.Core()
        for label, config in (
            ("openvino-f32", {"INFERENCE_PRECISION_HINT": "f32"}),
            ("openvino-default", {}),
        ):
            compiled = core.compile_model(str(onnx_path), "CPU", config)
            runners[label] = lambda x, c=compiled: c([x])[0]
        precision = core.get_property("CPU", "INFERENCE_PRECISION_HINT")
        print(f"OpenVINO {ov.__version__}: default CPU precision {precision}")
    except ImportError:
        print("openvino not installed")
    return runners


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--side", type=int, default=2048)
    parser.add_argument("--big", type=int, default=4096)
    args = parser.parse_args()
    print(f"{today()} | {machine()} | {load()}")
    model = load_model("nuclei")
    image = nuclei_arrays(0)["image"]
    image = image if image.ndim == 2 else image[..., 0]
    reps = -(-args.side // min(image.shape))
    big = np.tile(image, (reps, reps))[: args.side, : args.side]
    x = model.normalization.apply(big[..., None])[None].astype(np.float32)
    with tempfile.TemporaryDirectory() as folder:
        onnx_path = write_onnx(model.keras_model, Path(folder) / "nuclei.onnx")
        runners = engines(model.keras_model, onnx_path)
        outputs = {name: run(x) for name, run in runners.items()}  # warm-up and results
        times = {name: [] for name in runners}
        for _ in range(args.repeats):
            for name, run in runners.items():
                started = time.perf_counter()
                run(x)
                times[name].append(time.perf_counter() - started)
    megapixels = args.side**2 / 1e6
    base = statistics.median(times["tensorflow"])
    reference = outputs["tensorflow"]
    print(f"\n{args.side} x {args.side}, median of {args.repeats}:")
    for name in runners:
        median = statistics.median(times[name])
        diff = float(np.abs(outputs[name] - reference).max())
        agree = float((outputs[name].argmax(-1) == reference.argmax(-1)).mean())
        print(
            f"  {name:17s} {megapixels / median:5.2f} MP/s  x{base / median:4.2f}  "
            f"max |dp| {diff:.2e}  labels agree {agree:.4%}"
        )
    if args.big:
        from napari_segdl.core.infer.engine import predict_probabilities

        reps = -(-args.big // min(image.shape))
        huge = np.tile(image, (reps, reps))[: args.big, : args.big, None]
        print(f"\n{args.big} x {args.big} through seamless tiles (TensorFlow), one run each:")
        for tile in (512, 1024, 2048, 4096):
            started = time.perf_counter()
            predict_probabilities(model, huge, tile)
            seconds = time.perf_counter() - started
            print(f"  tile {tile:5d}: {seconds:6.1f} s  {args.big**2 / 1e6 / seconds:5.2f} MP/s")
    print(f"{today()} | {load()}")


if __name__ == "__main__":
    main()
