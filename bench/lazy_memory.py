"""Peak memory of chunk-by-chunk prediction from disk: zarr in, zarr out, by image size.

For each size, an image (ISBI 2012 slice 00 tiled) is written to a zarr store, then a fresh
Python process loads the model, predicts the store lazily and writes the labels to another
zarr store chunk by chunk; its peak resident memory (``ru_maxrss``, TensorFlow included) and
time are reported.

    python bench/lazy_memory.py --sizes 1024,4096,16384 --model /tmp/isbi16.keras
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from _common import DATA, load_isbi, machine, today

CHILD = """
import json, resource, sys, time
import zarr
from napari_segdl import load_model, predict
from napari_segdl.io.chunked import write_lazy
model = load_model(sys.argv[1])
start = time.perf_counter()
labels = predict(model, zarr.open(sys.argv[2], mode="r"))
write_lazy(sys.argv[3], labels)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": round(seconds, 1), "peak_mib": round(peak)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "isbi2012-em")
    parser.add_argument("--model", type=Path, required=True, help="a model bundle (.keras)")
    parser.add_argument("--sizes", default="1024,4096,16384")
    args = parser.parse_args()
    import zarr

    slice0 = load_isbi(args.data, [0])[0][0]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            source = Path(folder) / f"image{size}.zarr"
            store = zarr.open(
                str(source), mode="w", shape=(size, size), chunks=(1024, 1024), dtype="u1"
            )
            for y in range(0, size, 1024):
                reps = -(-size // 512)
                store[y : y + 1024] = np.tile(slice0, (2, reps))[: min(1024, size - y), :size]
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    CHILD,
                    str(args.model),
                    str(source),
                    str(Path(folder) / f"labels{size}.zarr"),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            row = {"size": size, "megapixels": round(size * size / 1e6, 1)}
            row.update(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(row), flush=True)
            rows.append(row)
    print(json.dumps({"date": today(), "machine": machine(), "runs": rows}, indent=1))


if __name__ == "__main__":
    main()
