"""Lazy (dask) prediction against in-memory prediction of the same image, border included.

A weakly trained 8-filter U-Net (many pixels near 0.5, where any difference flips labels)
predicts a 2048x2048 image in memory and lazily with several chunk sizes; the script prints the
share of pixels whose labels differ and the largest probability difference, overall and in the
band of one receptive margin along the image border.

    python bench/lazy_vs_memory.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import dask.array as da
import numpy as np

from _common import machine, today

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import make_blobs
from napari_segdl import predict, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--tiles", type=int, nargs="+", default=[512, 1024, 0])
    args = parser.parse_args()
    image, labels = make_blobs(shape=(256, 256), count=40)
    model = train(
        image, labels, epochs=1, filters=8, depth=4, patch=64, batch=4, steps_per_epoch=3
    )
    big = make_blobs(shape=(args.size, args.size), count=args.size, seed=5)[0]
    big = big.clip(0, 255).astype(np.uint8)
    memory = predict(model, big, probabilities=True)
    margin = model.geometry.margin
    band = np.ones(big.shape, bool)
    band[margin:-margin, margin:-margin] = False
    print(f"# {today()}, {machine()}; margin {margin} px")
    print("| chunk side | labels differ (all) | labels differ (border band) | max prob. diff |")
    print("| --- | --- | --- | --- |")
    for tile in args.tiles:
        lazy = predict(model, da.from_array(big), probabilities=True, tile=tile or None)
        lazy = np.asarray(lazy)
        differ = memory.argmax(-1) != lazy.argmax(-1)
        print(
            f"| {tile or 'auto'} | {differ.mean():.6%} | {differ[band].mean():.6%} | "
            f"{np.abs(memory - lazy).max():.2e} |"
        )


if __name__ == "__main__":
    main()
