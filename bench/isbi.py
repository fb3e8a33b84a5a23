"""U-Net quality on ISBI 2012 after a fixed CPU time budget.

Trains on slices 00-24 (dense labels: 255 = cell interior, 0 = membrane) for
``--budget`` seconds, predicts slices 25-29 and scores them against their labels.

    python bench/isbi.py --data ../shared/data/isbi2012-em --budget 600
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _common import DATA, load_isbi, machine, today
from napari_segdl import evaluate, predict, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "isbi2012-em")
    parser.add_argument("--budget", type=float, default=600.0, help="training seconds")
    parser.add_argument("--filters", type=int, default=16)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--patch", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--out", type=Path, default=None, help="also save the model here")
    args = parser.parse_args()
    images, labels = load_isbi(args.data, range(25))
    test_images, test_labels = load_isbi(args.data, range(25, 30))
    start = time.monotonic()

    def log(event):
        if event.kind == "epoch":
            print(
                f"epoch {event.epoch}: loss {event.loss:.4f} val IoU {event.val_iou:.3f} "
                f"({event.elapsed:.0f} s)",
                flush=True,
            )

    model = train(
        images,
        labels,
        epochs=10_000,
        max_time=args.budget,
        patience=None,
        filters=args.filters,
        depth=args.depth,
        patch=args.patch,
        batch=args.batch,
        lr=args.lr,
        val_fraction=0.1,
        seed=0,
        callback=log,
    )
    trained = time.monotonic() - start
    predictions = [predict(model, image) for image in test_images]
    score = evaluate(predictions, test_labels)
    if args.out:
        model.save(args.out)
    result = {
        "date": today(),
        "machine": machine(),
        "budget_s": args.budget,
        "training_s": round(trained, 1),
        "epochs": model.info.training["epochs_run"],
        "best_epoch": model.info.training["best_epoch"],
        "steps_per_epoch": model.info.training["steps_per_epoch"],
        "network": {
            "filters": args.filters,
            "depth": args.depth,
            "patch": args.patch,
            "batch": args.batch,
            "lr": args.lr,
        },
        "test_slices": "25-29",
        "iou": score["iou"],
        "dice": score["dice"],
        "pixel_accuracy": score["pixel_accuracy"]["overall"],
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
