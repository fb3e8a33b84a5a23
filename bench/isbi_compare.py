"""Sparse scribbles vs dense labels vs a random forest, and SegNet vs U-Net, on ISBI 2012.

Every network trains on slices 00-24 for the same ``--budget`` seconds and is scored on
slices 25-29 (mean IoU of cell interior and membrane). Runs:

- ``dense``: U-Net on the full labels;
- ``sparse``: U-Net in sparse mode on scribbles (thin skeleton strokes inside each class,
  at most 2 % of the pixels, ``bench/scribbles.py``);
- ``rf``: scikit-image's trainable segmentation (random forest on
  ``multiscale_basic_features``, ``skimage.future.fit_segmenter``) on the same scribbles;
- ``segnet``: SegNet on the full labels.

Patches per second are training patches (batch x steps) over training seconds.

    python bench/isbi_compare.py --budget 480 --runs dense,sparse,rf,segnet
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from _common import DATA, load_isbi, machine, today
from napari_segdl import evaluate, predict, train
from scribbles import scribbles_from_dense


def network_run(name, images, labels, test_images, test_labels, args, **params):
    start = time.monotonic()
    model = train(
        images,
        labels,
        epochs=10_000,
        max_time=args.budget,
        patience=None,
        filters=16,
        depth=4,
        patch=256,
        batch=8,
        seed=0,
        **params,
    )
    seconds = time.monotonic() - start
    info = model.info.training
    predictions = [predict(model, image) for image in test_images]
    if params.get("mode") == "sparse":  # painted values are class value + 1
        predictions = [p.astype(np.int32) - 1 for p in predictions]
    steps = info["epochs_run"] * info["steps_per_epoch"]
    return {
        "run": name,
        "training_s": round(seconds, 1),
        "epochs": info["epochs_run"],
        "patches_per_s": round(steps * 8 / info["seconds"], 2),
        **scores(predictions, test_labels),
    }


def scores(predictions, truth) -> dict:
    result = evaluate([p.astype(np.int32) for p in predictions], truth)
    return {"mean_iou": round(result["iou"]["mean"], 4), "iou": result["iou"]}


def forest_run(scribbles, images, test_images, test_labels) -> dict:
    from functools import partial

    from skimage.feature import multiscale_basic_features
    from skimage.future import fit_segmenter, predict_segmenter
    from sklearn.ensemble import RandomForestClassifier

    features = partial(multiscale_basic_features, sigma_min=1, sigma_max=16, channel_axis=None)
    start = time.monotonic()
    stacked = np.concatenate([features(image) for image in images])
    forest = RandomForestClassifier(n_estimators=100, max_depth=16, n_jobs=-1, random_state=0)
    forest = fit_segmenter(np.concatenate(scribbles), stacked, forest)
    seconds = time.monotonic() - start
    predictions = [predict_segmenter(features(image), forest) - 1 for image in test_images]
    return {"run": "rf", "training_s": round(seconds, 1), **scores(predictions, test_labels)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "isbi2012-em")
    parser.add_argument("--budget", type=float, default=480.0, help="training seconds per run")
    parser.add_argument("--runs", default="dense,sparse,rf,segnet")
    args = parser.parse_args()
    images, labels = load_isbi(args.data, range(25))
    test_images, test_labels = load_isbi(args.data, range(25, 30))
    scribbles = [scribbles_from_dense(lab, fraction=0.02, seed=i) for i, lab in enumerate(labels)]
    coverage = float(np.mean([np.count_nonzero(s) / s.size for s in scribbles]))
    print(f"scribbles cover {100 * coverage:.2f} % of the pixels", flush=True)
    results = []
    for run in args.runs.split(","):
        if run == "dense":
            result = network_run(run, images, labels, test_images, test_labels, args)
        elif run == "sparse":
            result = network_run(
                run, images, scribbles, test_images, test_labels, args, mode="sparse"
            )
        elif run == "segnet":
            result = network_run(
                run, images, labels, test_images, test_labels, args, arch="segnet"
            )
        elif run == "rf":
            result = forest_run(scribbles, images, test_images, test_labels)
        else:
            raise SystemExit(f"unknown run {run!r}")
        print(json.dumps(result), flush=True)
        results.append(result)
    print(
        json.dumps(
            {
                "date": today(),
                "machine": machine(),
                "budget_s": args.budget,
                "scribble_coverage": round(coverage, 4),
                "results": results,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
