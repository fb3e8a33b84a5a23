"""Fine-tuning the bundled nuclei model for 60 s on a few corrected images of the kind it does
worst on, against 60 s from scratch on the same images.

    cd bench && python fine_tune.py [--model nuclei] [--seconds 60]

The held-out split of DSB 2018 (``scripts/train_nuclei.py``'s: every fifth image) is sorted into
kinds: fluorescence (grey, dark background), brightfield (grey, bright background) and stained
tissue (colour). The kind with the lowest F1@0.5 of the bundled model is split in two: the first
half stands for images a user corrected (their ground truth as the corrections), the second
half scores. Prints F1@0.5 and AP 0.5:0.95 per kind before, and for that kind before, after
fine-tuning, and after the same time from scratch.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from _common import DATA, load, machine, today

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from napari_segdl import evaluate, load_model, predict, preprocess, train
from napari_segdl.core.preprocess import Recipe
from nuclei_card import kind
from train_nuclei import read, split


def scores(model, images, truths) -> dict:
    result = evaluate([predict(model, im) for im in images], truths, instance=True)
    return {k: round(float(result[k]), 4) for k in ("f1_50", "ap50_95")} | {"images": len(images)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DATA / "dsb2018-nuclei"))
    parser.add_argument("--model", default="nuclei")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    folder = Path(args.data)
    _, test_ids = split(folder)
    images, truths = read(folder, test_ids)
    model = load_model(args.model)
    kinds: dict[str, list[int]] = {}
    for i, image in enumerate(images):
        kinds.setdefault(kind(image), []).append(i)
    before = {
        name: scores(model, [images[i] for i in idx], [truths[i] for i in idx])
        for name, idx in kinds.items()
    }
    worst = min(
        (name for name in kinds if len(kinds[name]) >= 4), key=lambda n: before[n]["f1_50"]
    )
    chosen = kinds[worst]
    tune, held = chosen[: len(chosen) // 2], chosen[len(chosen) // 2 :]
    recipe = Recipe.coerce(model.info.recipe)  # what predict applies
    grey = [preprocess(images[i], recipe) for i in tune]
    corrected = [truths[i] for i in tune]
    held_images, held_truths = [images[i] for i in held], [truths[i] for i in held]
    start = load()
    tuned = train(
        grey,
        corrected,
        initial=model,
        preset="fine-tune",
        max_time=args.seconds,
        recipe=recipe,
        patch=256,
        batch=8,
        seed=1,
    )
    scratch = train(
        grey,
        corrected,
        mode="instance",
        recipe=recipe,
        filters=16,
        depth=4,
        patch=256,
        batch=8,
        epochs=1000,
        max_time=args.seconds,
        seed=1,
    )
    print(
        json.dumps(
            {
                "date": today(),
                "machine": machine(),
                "load_before": start,
                "load_after": load(),
                "per_kind_before": before,
                "worst_kind": worst,
                "corrected_images": len(tune),
                "scored_images": len(held),
                "before": scores(model, held_images, held_truths),
                "fine_tuned": scores(tuned, held_images, held_truths),
                "from_scratch": scores(scratch, held_images, held_truths),
                "seconds": args.seconds,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
