"""Training throughput of the bundled model's network on a GPU: patches/s at 256², float32 and
mixed precision, and the share of the device's peak that it reaches.

One command on a bare GPU machine (TensorFlow, or JAX/PyTorch with ``NAPARI_SEGDL_BACKEND``):

    pip install . && NAPARI_SEGDL_BACKEND=torch python bench/gpu_throughput.py --peak-tflops 989

It trains the U-Net of ``docs/models/nuclei.md`` (16 filters, depth 4, batch norm; three classes)
on random 256x256 patches with ``napari_segdl``'s loss, ``--warmup`` steps then ``--steps``
timed steps per precision, interleaved ``--repeats`` times; prints the median patches/s, and
the achieved TFLOP/s (three times the forward convolutions' multiply-adds, counted from the
network) over ``--peak-tflops`` (the device's dense peak for the precision: for an H100 SXM
about 67 float32 and 989 bfloat16/float16 with tensor cores). Runs on a CPU too (a smoke check).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from _common import load, machine, today
from napari_segdl.core.backend import load_keras


def forward_flops(network, size: int) -> float:
    """Floating-point operations of one forward pass on a size x size patch: 2 per
    multiply-add of every convolution, their output sizes taken from one real call."""
    keras = load_keras()

    kinds = ("Conv2D", "Conv2DTranspose")
    convs = [layer for layer in network.layers if type(layer).__name__ in kinds]
    probe = keras.Model(network.inputs, [layer.output for layer in convs])
    outputs = probe.predict_on_batch(np.zeros((1, size, size, 1), np.float32))
    total = 0.0
    for layer, out in zip(convs, outputs, strict=True):
        macs = out.shape[1] * out.shape[2] * np.prod(layer.kernel.shape)
        if type(layer).__name__ == "Conv2DTranspose":  # each input pixel, not output pixel
            macs /= np.prod(layer.strides)
        total += 2.0 * macs
    return total


def run(precision: str, args) -> float:
    keras = load_keras()

    from napari_segdl.core.models import build_model
    from napari_segdl.core.train.losses import segmentation_loss

    keras.mixed_precision.set_global_policy(precision)
    network = build_model("unet", 1, 3, depth=4, filters=16, batch_norm=True)
    network.compile(optimizer=keras.optimizers.Adam(1e-3), loss=segmentation_loss())
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch, args.patch, args.patch, 1)).astype(np.float32)
    y = rng.integers(0, 3, size=(args.batch, args.patch, args.patch)).astype(np.int32)
    for _ in range(args.warmup):
        network.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(args.steps):
        network.train_on_batch(x, y)
    float(network.train_on_batch(x, y))  # wait for the device
    seconds = time.perf_counter() - start
    keras.mixed_precision.set_global_policy("float32")
    return (args.steps + 1) * args.batch / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patch", type=int, default=256)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--precisions", nargs="+", default=["float32", "mixed_float16", "mixed_bfloat16"]
    )
    parser.add_argument(
        "--peak-tflops",
        type=float,
        nargs="+",
        default=None,
        help="the device's dense peak per precision, in the order given",
    )
    args = parser.parse_args()
    keras = load_keras()

    from napari_segdl.core.backend import describe_devices
    from napari_segdl.core.models import build_model

    flops = 3 * forward_flops(
        build_model("unet", 1, 3, depth=4, filters=16, batch_norm=True), args.patch
    )
    before, results = load(), {p: [] for p in args.precisions}
    for _ in range(args.repeats):
        for precision in args.precisions:
            results[precision].append(run(precision, args))
    report = {}
    for i, (precision, rates) in enumerate(results.items()):
        rate = statistics.median(rates)
        row = {"patches_per_s": round(rate, 1), "tflops": round(rate * flops / 1e12, 2)}
        if args.peak_tflops and i < len(args.peak_tflops):
            row["share_of_peak"] = round(rate * flops / 1e12 / args.peak_tflops[i], 3)
        report[precision] = row
    print(
        json.dumps(
            {
                "date": today(),
                "machine": machine(),
                "device": describe_devices(),
                "backend": keras.backend.backend(),
                "load_before": before,
                "load_after": load(),
                "patch": args.patch,
                "batch": args.batch,
                "training_gflop_per_patch": round(flops / 1e9, 2),
                "results": report,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
