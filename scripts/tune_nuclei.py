"""Tune a nuclei checkpoint's post-processing on validation blocks of its training images: the
extent level and, for the flow head, the flow check, as ``train()`` does at the end of a run
(``core.train.levels.tune_levels``). For a checkpoint whose run was stopped before that, or
one continued by runs that kept their start.

    python scripts/tune_nuclei.py --checkpoint scripts/checkpoints/nuclei-flow.keras \\
        --sbsst265 DIR [--fraction 0.1] [--seed 0]

The images are ``train_nuclei.py``'s training split (and S-BSST265's with ``--sbsst265``),
through the checkpoint's recipe; ``--fraction`` of their labelled 256² blocks (seed
``--seed``) are the validation blocks. The checkpoint is rewritten with the levels chosen and
the validation F1@0.5 of the choice and of the defaults, which are printed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from train_nuclei import CHECKPOINT, DATA, read, sbsst265, split


def validation(model, images, labels, fraction: float, seed: int):
    """The validation blocks (``TrainingData``) of ``images`` as a run of ``model`` makes them."""
    from napari_segdl.core.images import Normalization
    from napari_segdl.core.labels.heads import head_of
    from napari_segdl.core.train.pairs import prepare_pairs
    from napari_segdl.core.train.sampling import pad_to_patch, split_validation

    pairs = prepare_pairs(images, labels, "instance", class_map=model.class_map,
                          head=head_of(model.info.arch_params))  # fmt: skip
    inputs = [Normalization().apply(a) for a in pairs.images]
    patch = (int(model.info.patch),) * 2
    padded = [pad_to_patch(x, t, patch) for x, t in zip(inputs, pairs.targets, strict=True)]
    return split_validation([p[0] for p in padded], [p[1] for p in padded], patch, fraction,
                            np.random.default_rng(seed))  # fmt: skip


def main() -> None:
    from napari_segdl import load_model, preprocess
    from napari_segdl.core.train.levels import tune_levels

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(CHECKPOINT))
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--sbsst265", help="S-BSST265's dataset folder (its training split)")
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = load_model(args.checkpoint)
    folder = Path(args.data)
    images, labels = read(folder, split(folder)[0])
    if args.sbsst265:
        _, more_images, more_labels = sbsst265(Path(args.sbsst265))
        images, labels = images + more_images, labels + more_labels
    images = [preprocess(image, model.info.recipe) for image in images]
    data = validation(model, images, labels, args.fraction, args.seed)
    post = model.info.postprocessing
    tuned = tune_levels(model, data, batch=8, min_size=post.min_size)
    print(json.dumps({"validation_blocks": len(data.val_images), **tuned}))
    model.info.postprocessing = post.tuned(tuned)
    model.save(args.checkpoint)


if __name__ == "__main__":
    main()
