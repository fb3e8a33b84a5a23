"""Write the replay patches shipped beside the bundled nuclei model: crops of its own training
images that fine-tuning mixes in, so that a few corrected images do not make it forget.

Run once from the repository root; the output is committed:

    python scripts/make_replay.py --data ../shared/data/dsb2018-nuclei

From the bundled model's training split (``train_nuclei.split``: never the held-out fifth nor
the samples) and, with ``--sbsst265 DIR``, S-BSST265's training split (CC0), ``--count``
images drawn at random (seed 0), each through the recipe of ``--model`` (the bundled model's
file by default) and cropped to the ``--size``-pixel square that holds the most nucleus pixels
(images smaller than that are skipped, and so are crops that instance mode refuses, such as
one nucleus filling most of the square). Written as ``nuclei_replay.npz``: ``images`` (N, S, S)
float16 (what the recipe gives), ``labels`` (N, S, S) uint16 (one ID per nucleus), ``ids``
(the DSB image ids and S-BSST265 names).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from napari_segdl.core.errors import SegDLError
from napari_segdl.core.labels.instances import check_instance_labels
from napari_segdl.core.preprocess import Recipe, preprocess
from train_nuclei import OUT as MODEL
from train_nuclei import read, sbsst265, split

OUT = (
    Path(__file__).resolve().parents[1] / "src/napari_segdl/core/models/bundled/nuclei_replay.npz"
)


def densest_crop(labels: np.ndarray, size: int, stride: int = 16) -> tuple[slice, slice]:
    """The ``size``-square window (on a ``stride`` grid) with the most labelled pixels."""
    filled = np.pad((labels > 0).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    best, where = -1, (0, 0)
    for y in range(0, labels.shape[0] - size + 1, stride):
        for x in range(0, labels.shape[1] - size + 1, stride):
            total = filled[y + size, x + size] - filled[y, x + size] - filled[y + size, x]
            total += filled[y, x]
            if total > best:
                best, where = total, (y, x)
    return slice(where[0], where[0] + size), slice(where[1], where[1] + size)


def main() -> None:
    from napari_segdl import load_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/dsb2018-nuclei", type=Path)
    parser.add_argument("--sbsst265", type=Path, help="S-BSST265's dataset folder")
    parser.add_argument("--model", default=str(MODEL), help="the model whose recipe applies")
    parser.add_argument("--count", default=64, type=int)
    parser.add_argument("--size", default=128, type=int)
    args = parser.parse_args()
    ids = split(args.data)[0]
    pool = [lambda i=i: [a[0] for a in read(args.data, [i])] for i in ids]
    if args.sbsst265:
        names, extra_images, extra_labels = sbsst265(args.sbsst265)
        ids += names
        pool += [lambda a=a, b=b: (a, b) for a, b in zip(extra_images, extra_labels, strict=True)]
    recipe = Recipe.coerce(load_model(args.model).info.recipe)
    images, labels, kept = [], [], []
    for k in np.random.default_rng(0).permutation(len(ids)):
        image, label = pool[k]()
        if min(label.shape) < args.size or not label.any():
            continue
        window = densest_crop(label, args.size)
        try:  # a crop inside one large nucleus is not instances: training would refuse it
            check_instance_labels(label[window], ids[k])
        except SegDLError:
            continue
        grey = np.asarray(preprocess(image, recipe), dtype=np.float32).squeeze()
        images.append(grey[window].astype(np.float16))
        labels.append(label[window].astype(np.uint16))
        kept.append(ids[k])
        if len(kept) == args.count:
            break
    np.savez_compressed(OUT, images=np.stack(images), labels=np.stack(labels), ids=np.array(kept))
    print(f"wrote {len(kept)} patches of {args.size}² to {OUT} ({OUT.stat().st_size >> 10} KiB)")


if __name__ == "__main__":
    main()
