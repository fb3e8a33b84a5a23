"""BioImage Model Zoo export: seconds, package size, and bioimageio.core's model test per weight
format, for a U-Net and a SegNet (16 filters, depth 4, trained briefly on the nuclei sample).

    python bench/export_bioimageio.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import load, machine, today
from napari_segdl import export_bioimageio, train
from napari_segdl._sample_data import nuclei_arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from bioimageio.core import test_model

    print(f"{today()} | {machine()} | {load()}")
    sample = nuclei_arrays(0)
    image = sample["image"] if sample["image"].ndim == 2 else sample["image"][..., 0]
    for arch in ("unet", "segnet"):
        model = train(
            image, sample["masks"], arch=arch, filters=16, depth=4, patch=128, batch=4,
            epochs=2, steps_per_epoch=4,
        )  # fmt: skip
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{arch}.zip"
            seconds = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                report = export_bioimageio(model, path, image=image, overwrite=True)
                seconds.append(time.perf_counter() - started)
            size = path.stat().st_size / 1024**2
            results = {}
            for weight_format in report.formats:
                started = time.perf_counter()
                summary = test_model(path, weight_format=weight_format)
                results[weight_format] = (summary.status, round(time.perf_counter() - started, 1))
        print(
            f"{arch}: export median {statistics.median(seconds):.1f} s "
            f"({', '.join(f'{s:.1f}' for s in seconds)}), package {size:.1f} MiB, "
            f"bioimageio.core test: {results}"
        )
    print(f"{today()} | {load()}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
