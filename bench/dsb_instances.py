"""Instance mode on DSB 2018 nuclei: AP at IoU 0.5, F1 at 0.5 and mean AP 0.5:0.95 on held-out
images after a fixed CPU budget.

    python bench/dsb_instances.py [--data ../shared/data] [--budget 900] [--head auto|boundary|distance|flow]
    python bench/dsb_instances.py --steps 300 --head flow   # equal steps instead of seconds
    python bench/dsb_instances.py --steps 300 --head flow --flow-weight 6.25   # the first weight
    python bench/dsb_instances.py --steps 600 --recipe nuclear_stain --save M.keras   # colour

Images go through ``--recipe`` before training, and prediction applies it too: ``none`` (RGB as
it is, the default), ``to_grey`` (luminance) or ``nuclear_stain`` (a stained slide's
haematoxylin and a grey slide's optical density, nuclei bright; fluorescence in luminance).
The scores are given for all held-out images and by kind (``scripts/nuclei_card.py``'s kinds:
fluorescence, stained tissue, brightfield).

Fixed split: the image ids sorted by name, every fifth one (index % 5 == 4) held out. Images are
RGB (alpha dropped); a 16-filter, depth-4 U-Net with batch norm, 256 x 256 patches, batch 8.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from _common import DATA, load, machine, today
from napari_segdl import evaluate, predict, preprocess, train
from napari_segdl.io.files import read_image

RECIPES = {
    "none": None,
    "to_grey": [{"op": "to_grey"}],
    "nuclear_stain": [{"op": "nuclear_stain"}],
}
FIGURES = ("f1_50", "ap50_95", "precision_50", "recall_50")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from nuclei_card import kind  # noqa: E402  (the model card's kinds of DSB image)


def read(folder, ids):
    images = [read_image(folder / "images" / f"{i}.png")[..., :3] for i in ids]
    labels = [read_image(folder / "labels" / f"{i}.png") for i in ids]
    return images, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--budget", type=float, default=900.0, help="training seconds")
    parser.add_argument("--filters", type=int, default=16)
    parser.add_argument("--head", choices=["auto", "boundary", "distance", "flow"], default="auto")
    parser.add_argument(
        "--steps", type=int, help="train this many steps (epochs of 50) instead of --budget"
    )
    parser.add_argument(
        "--lr-schedule", choices=["plateau", "cosine", "constant"], default="plateau"
    )
    parser.add_argument(
        "--flow-weight", type=float, help="the flow head's weight in the loss (losses.FLOW_WEIGHT)"
    )
    parser.add_argument("--recipe", choices=list(RECIPES), default="none")
    parser.add_argument("--save", type=Path, help="write the trained model here (.keras)")
    args = parser.parse_args()
    if args.flow_weight is not None:
        from napari_segdl.core.train import losses

        losses.FLOW_WEIGHT = args.flow_weight
    folder = args.data / "dsb2018-nuclei"
    ids = sorted(p.stem for p in (folder / "images").glob("*.png"))
    train_ids = [i for n, i in enumerate(ids) if n % 5 != 4]
    test_ids = [i for n, i in enumerate(ids) if n % 5 == 4]
    images, labels = read(folder, train_ids)
    recipe = RECIPES[args.recipe]
    if recipe:
        images = [preprocess(image, recipe) for image in images]
    before = load()
    start = time.monotonic()
    model = train(
        images,
        labels,
        mode="instance",
        instance_head=args.head,
        lr_schedule=args.lr_schedule,
        filters=args.filters,
        depth=4,
        patch=256,
        batch=8,
        epochs=-(-args.steps // 50) if args.steps else 1000,
        steps_per_epoch=50 if args.steps else None,
        patience=1000,
        max_time=None if args.steps else args.budget,
        seed=0,
        recipe=recipe,
    )
    trained = time.monotonic() - start
    if args.save:
        model.save(args.save)
    test_images, truths = read(folder, test_ids)
    start = time.monotonic()
    predictions = [predict(model, image) for image in test_images]
    predicted = time.monotonic() - start
    scores = evaluate(predictions, truths, instance=True, names=test_ids)
    per_image_ap = [row["ap50_95"] for row in scores["per_image"]]
    kinds: dict[str, list[int]] = {}
    for number, image in enumerate(test_images):
        kinds.setdefault(kind(image), []).append(number)
    by_kind = {}
    for name, numbers in sorted(kinds.items()):
        part = evaluate(
            [predictions[n] for n in numbers], [truths[n] for n in numbers], instance=True
        )
        by_kind[name] = {"images": len(numbers)} | {f: part[f] for f in FIGURES}
    print(
        json.dumps(
            {
                "date": today(),
                "machine": machine(),
                "load_before": before,
                "load_after": load(),
                "head": args.head,
                "recipe": args.recipe,
                "flow_weight": model.info.training.get("flow_weight"),
                "lr_schedule": args.lr_schedule,
                "levels": model.info.training.get("instance_levels"),
                "train_images": len(train_ids),
                "test_images": len(test_ids),
                "training_seconds": round(trained),
                "epochs": model.info.training["epochs_run"],
                "steps": args.steps,
                "prediction_seconds": round(predicted),
                "ap50": scores["ap50"],
                "f1_50": scores["f1_50"],
                "ap50_95": scores["ap50_95"],
                "precision_50": scores["precision_50"],
                "recall_50": scores["recall_50"],
                "mean_matched_iou": scores["mean_matched_iou"],
                "median_image_ap50_95": float(np.median(per_image_ap)),
                "foreground_iou": scores["iou"]["per_class"]["1"],
                "by_kind": by_kind,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
