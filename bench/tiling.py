"""Seamless tiles vs one whole-image call: throughput and the largest difference.

Predicts a 4096 x 4096 image (ISBI 2012 slice 00 tiled 8 x 8) with one U-Net (16 filters,
depth 4; briefly trained on ISBI so its outputs are realistic) as one whole-image call and in
the tiles chosen automatically, interleaved ``--repeats`` times; reports megapixels per second
(medians), their ratio, and the largest absolute difference of the probabilities away from
the image border (one receptive margin).

    python bench/tiling.py --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from _common import DATA, load_isbi, machine, today
from napari_segdl import load_model, predict, train
from napari_segdl.core.infer.tiles import auto_tile, plan_axis
from napari_segdl.core.models import geometry


def model_for_bench(path: Path | None, data: Path):
    if path is not None and path.exists():
        return load_model(path)
    images, labels = load_isbi(data, range(25))
    model = train(images, labels, filters=16, depth=4, epochs=3, max_time=90, seed=0)
    if path is not None:
        model.save(path)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "isbi2012-em")
    parser.add_argument("--model", type=Path, default=None, help="reuse or write this bundle")
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tile", type=int, default=None, help="default: automatic")
    args = parser.parse_args()
    model = model_for_bench(args.model, args.data)
    slice0 = load_isbi(args.data, [0])[0][0]
    reps = -(-args.size // slice0.shape[0])
    image = np.tile(slice0, (reps, reps))[: args.size, : args.size]
    predict(model, image[:512, :512])  # warm-up: graph tracing
    whole_s, tiled_s = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        whole = predict(model, image, tile=args.size, probabilities=True)
        whole_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        tiled = predict(model, image, tile=args.tile, probabilities=True)
        tiled_s.append(time.perf_counter() - start)
    margin = geometry("unet", {"depth": 4, "filters": 16}).margin
    difference = float(np.abs(tiled - whole)[margin:-margin, margin:-margin].max())
    megapixels = args.size**2 / 1e6
    tile = args.tile or auto_tile(geometry("unet", {"depth": 4, "filters": 16}))[0]
    plan = plan_axis(args.size, tile, margin, 16)
    result = {
        "date": today(),
        "machine": machine(),
        "image": f"{args.size}x{args.size}",
        "tiles": f"{len(plan.starts)}x{len(plan.starts)} of {plan.tile} px (limit {tile})",
        "whole_mpx_s": round(megapixels / statistics.median(whole_s), 3),
        "tiled_mpx_s": round(megapixels / statistics.median(tiled_s), 3),
        "ratio_tiled_to_whole": round(statistics.median(whole_s) / statistics.median(tiled_s), 3),
        "max_abs_difference_inside": difference,
        "whole_s": [round(t, 2) for t in whole_s],
        "tiled_s": [round(t, 2) for t in tiled_s],
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
