"""Training throughput of ``napari_segdl.train`` against a bare ``model.fit``.

Both train the same U-Net (same loss, optimizer and compile settings) on 256x256
patches of the ISBI 2012 slices; ``model.fit`` gets pre-made arrays in memory, so
the ratio is the cost of napari-segdl's input pipeline (sampling, augmentation,
normalisation) and its step-wise loop. Runs are interleaved; medians are reported.

    python bench/throughput.py --data ../shared/data/isbi2012-em
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from _common import DATA, load, load_isbi, machine, today
from napari_segdl.core.backend import load_keras
from napari_segdl.core.images import Normalization
from napari_segdl.core.train.api import train

NETWORK = {"filters": 16, "depth": 4, "batch_norm": True}


def run_segdl(images, labels, args) -> float:
    times = []
    train(
        images,
        labels,
        epochs=1,
        steps_per_epoch=args.warmup + args.steps,
        patch=args.patch,
        batch=args.batch,
        val_fraction=0.0,
        patience=None,
        filters=NETWORK["filters"],
        depth=NETWORK["depth"],
        seed=1,
        callback=lambda e: e.kind == "step" and times.append(time.perf_counter()),
    )
    return args.steps * args.batch / (times[-1] - times[args.warmup - 1])


def run_fit(images, labels, args) -> float:
    keras = load_keras()
    from napari_segdl.core.models import build_model
    from napari_segdl.core.train.losses import segmentation_loss

    rng = np.random.default_rng(1)
    count = (args.warmup + args.steps) * args.batch
    norm = Normalization()
    xs, ys = [], []
    for _ in range(count):
        i = int(rng.integers(len(images)))
        y0, x0 = rng.integers(0, 512 - args.patch, 2)
        xs.append(norm.apply(images[i][..., None])[y0 : y0 + args.patch, x0 : x0 + args.patch])
        ys.append((labels[i] > 0)[y0 : y0 + args.patch, x0 : x0 + args.patch].astype(np.int32))
    x, y = np.stack(xs), np.stack(ys)
    model = build_model("unet", 1, 2, **NETWORK)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=segmentation_loss())
    times = []
    stamp = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda *_, **__: times.append(time.perf_counter())
    )
    model.fit(x, y, batch_size=args.batch, epochs=1, shuffle=False, verbose=0, callbacks=[stamp])
    return args.steps * args.batch / (times[-1] - times[args.warmup - 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=str, default=str(DATA / "isbi2012-em"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--patch", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    from pathlib import Path

    images, labels = load_isbi(Path(args.data), range(25))
    before = load()
    segdl, fit = [], []
    for repeat in range(args.repeats):
        fit.append(run_fit(images, labels, args))
        segdl.append(run_segdl(images, labels, args))
        print(
            f"repeat {repeat + 1}: train() {segdl[-1]:.2f} patches/s, "
            f"model.fit {fit[-1]:.2f} patches/s, ratio {segdl[-1] / fit[-1]:.3f}",
            flush=True,
        )
    result = {
        "date": today(),
        "machine": machine(),
        "load_before": before,
        "load_after": load(),
        "network": NETWORK,
        "patch": args.patch,
        "batch": args.batch,
        "steps": args.steps,
        "train_patches_per_s": statistics.median(segdl),
        "fit_patches_per_s": statistics.median(fit),
        "ratio_of_medians": statistics.median(segdl) / statistics.median(fit),
        "ratios": [s / f for s, f in zip(segdl, fit, strict=True)],
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
