"""Time each preprocessing operation on a 2048 x 2048 image (grey and RGB).

    python bench/preprocess.py [--size 2048] [--repeats 3] [--data ../shared/data]

The image is ISBI 2012 EM slice 00 tiled up to the size (grey), and the same as RGB for the
colour operations; median of ``--repeats`` runs, each operation with its default parameters
(resize: factor 0.5).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from _common import DATA, machine, today
from napari_segdl.core.preprocess import OPERATIONS, preprocess

PARAMS = {"resize": {"factor": 0.5}, "pick_channels": {"order": [2, 1]}}


def test_image(size: int, data) -> np.ndarray:
    from napari_segdl.io.files import read_image

    tile = read_image(data / "isbi2012-em" / "images" / "00.png")
    reps = -(-size // tile.shape[0]), -(-size // tile.shape[1])
    return np.tile(tile, reps)[:size, :size].astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", type=lambda p: __import__("pathlib").Path(p), default=DATA)
    args = parser.parse_args()
    grey = test_image(args.size, args.data)
    rgb = np.stack([grey, grey[::-1], grey[:, ::-1]], axis=-1)
    rows = {}
    for name, op in OPERATIONS.items():
        image = rgb if op.needs_colour or name == "pick_channels" else grey
        recipe = [{"op": name, **PARAMS.get(name, {})}]
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            preprocess(image, recipe)
            times.append(time.perf_counter() - start)
        rows[name] = {
            "input": "RGB" if image.ndim == 3 else "grey",
            "seconds": statistics.median(times),
        }
        print(f"{name:16s} {rows[name]['input']:5s} {rows[name]['seconds']:8.3f} s", flush=True)
    print(
        json.dumps(
            {"date": today(), "machine": machine(), "size": args.size, "ops": rows}, indent=1
        )
    )


if __name__ == "__main__":
    main()
