"""3D networks against 2D networks with slice linking, at equal CPU budget; 3D training
throughput; prediction of a 512 x 512 x 128 volume (time and peak memory).

    python bench/volumes_3d.py [--data ../shared/data] [--budget 240] [--small-budget 120]
    python bench/volumes_3d.py --skip-compare      # only throughput and the big volume

Data: ``qcanet-3d`` (Tokuoka et al. 2020): two embryo volumes 51 x 120 x 122, z spacing 2.18 x
the x-y spacing; masks numbered into nuclei in 3D. Each volume trains once and the other tests
(16-cell -> 8-cell, 8-cell -> 16-cell). ``stardist-examples/img3d.tif`` (31 x 61 x 57, 162
synthetic nuclei): rows 0-31 train, rows 32-60 test. Both networks: instance mode, 16 filters,
depth 3, the same training seconds, no early stopping. 3D: patches 16 x 64 x 64 (qcanet; 16 x
32 x 32 for stardist), batch 2, the file's spacing; 2D: patches 64 x 64 (32 x 32), batch 8,
objects linked across slices (IoU >= 0.5) at prediction. Scores: 3D instance F1 and AP at IoU
0.5 (objects matched by 3D IoU).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile
from skimage.measure import label

from _common import DATA, load, machine, today
from napari_segdl import evaluate, load_model, predict, train

COMMON = {"mode": "instance", "filters": 16, "depth": 3, "patience": None, "epochs": 100_000}


def qcanet(folder: Path, stage: str):
    image = tifffile.imread(folder / "images_raw" / f"{stage}_cell_stage.tif")
    mask = tifffile.imread(folder / "images_nsn" / f"{stage}_cell_stage.tif")
    return image, label(mask > 0, connectivity=1).astype(np.uint16)


def compare(train_pair, test_pair, budget: float, spacing, patch: int, patch_z: int) -> dict:
    """Both networks on one split: scores, epochs and training throughput."""
    image, truth = test_pair
    out = {}
    for dims in (3, 2):
        extra = (
            {"dims": 3, "patch": patch, "patch_z": patch_z, "batch": 2, "spacing": spacing}
            if dims == 3
            else {"dims": 2, "patch": patch, "batch": 8}
        )
        started = time.perf_counter()
        model = train(*train_pair, max_time=budget, **COMMON, **extra)
        seconds = time.perf_counter() - started
        info = model.info.training
        steps = info["epochs_run"] * info["steps_per_epoch"]
        voxels = steps * info["batch"] * patch * patch * (patch_z if dims == 3 else 1)
        started = time.perf_counter()
        linked = {} if dims == 3 else {"link_slices": 0.5}
        prediction = predict(model, image, **linked)
        predict_s = time.perf_counter() - started
        scores = evaluate(prediction, truth, instance=True)
        row = {
            "f1_50": round(scores["f1_50"], 3),
            "ap50": round(scores["ap50"], 3),
            "ap50_95": round(scores["ap50_95"], 3),
            "objects": int(prediction.max()),
            "truth_objects": int(len(np.unique(truth)) - 1),
            "epochs": info["epochs_run"],
            "train_s": round(seconds, 1),
            "voxels_per_s": round(voxels / info["seconds"]),
            "predict_s": round(predict_s, 2),
            "z_skip": model.info.arch_params.get("z_skip"),
        }
        if dims == 2:  # the same 2D model without linking: one object per slice
            flat = predict(model, image)
            row["f1_50_unlinked"] = round(evaluate(flat, truth, instance=True)["f1_50"], 3)
        out[f"{dims}d"] = row
        print(f"  {dims}D: {row}", flush=True)
    return out


def big_volume(model_path: str) -> None:
    """Child process: predict a 128 x 512 x 512 volume, print seconds and the tiles used."""
    from napari_segdl.core.infer.engine import tile_sizes

    model = load_model(model_path)
    rng = np.random.default_rng(0)
    volume = (rng.random((128, 512, 512)) * 1000).astype(np.uint16)
    sizes, _ = tile_sizes(model.geometry, volume.shape, None)
    started = time.perf_counter()
    labels = predict(model, volume)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": round(seconds, 1), "tile": sizes, "shape": labels.shape}))


def measure_big(model) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model3d.keras"
        model.save(path)
        child = subprocess.run(
            [sys.executable, __file__, "--big-volume", str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
    result = json.loads(child.stdout.strip().splitlines()[-1])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2  # KiB -> GiB
    result["peak_rss_gib"] = round(peak, 2)
    result["megavoxels_per_s"] = round(128 * 512 * 512 / result["seconds"] / 1e6, 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--budget", type=float, default=240.0, help="seconds per qcanet run")
    parser.add_argument("--small-budget", type=float, default=120.0, help="stardist seconds")
    parser.add_argument("--skip-compare", action="store_true")
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--big-volume", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.big_volume:
        big_volume(args.big_volume)
        return
    print(f"{today()} | {machine()} | {load()}", flush=True)
    results = {}
    folder = args.data / "qcanet-3d"
    volumes = {stage: qcanet(folder, stage) for stage in ("8", "16")}
    spacing = (2.18, 1.0, 1.0)
    if not args.skip_compare:
        for train_stage, test_stage in (("16", "8"), ("8", "16")):
            print(f"qcanet {train_stage}-cell -> {test_stage}-cell", flush=True)
            results[f"qcanet_{train_stage}_to_{test_stage}"] = compare(
                volumes[train_stage], volumes[test_stage], args.budget, spacing, 64, 16
            )
        examples = args.data / "stardist-examples"
        image = tifffile.imread(examples / "img3d.tif")
        masks = tifffile.imread(examples / "mask3d.tif")
        split = 32
        train_pair = (image[:, :split], masks[:, :split])
        test_pair = (image[:, split:], masks[:, split:])
        print("stardist 3D example", flush=True)
        results["stardist_3d"] = compare(
            train_pair, test_pair, args.small_budget, (1.0, 1.0, 1.0), 32, 16
        )
    if not args.skip_big:
        print("512 x 512 x 128 volume", flush=True)
        model = train(
            *volumes["16"], max_time=20, dims=3, patch=64, patch_z=16, batch=2, spacing=spacing,
            **COMMON,
        )  # fmt: skip
        results["big_volume"] = measure_big(model)
    print(json.dumps(results, indent=1))
    print(f"{today()} | {load()}")


if __name__ == "__main__":
    main()
