"""Does bfloat16 keep the quality? The same U-Net trained for the same time on ISBI 2012 in
float32 and in Keras' ``mixed_bfloat16`` policy, scored on the held-out slices.

    cd bench && python bf16_quality.py --budget 300

On a CPU with AVX-512 BF16 (or AMX) bfloat16 runs more patches in the same time; this prints
both runs' patches trained, test IoU per class and mean, so that the question is answered at
equal CPU budget, not per step.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import DATA, load, load_isbi, machine, today
from napari_segdl import evaluate, predict, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DATA / "isbi2012-em"))
    parser.add_argument("--budget", type=float, default=300.0)
    args = parser.parse_args()
    images, labels = load_isbi(Path(args.data), range(25))
    test_images, test_labels = load_isbi(Path(args.data), range(25, 30))
    before, runs = load(), {}
    for precision in ("off", "bfloat16"):
        model = train(
            images,
            labels,
            mixed_precision=precision,
            filters=16,
            depth=4,
            patch=256,
            batch=8,
            epochs=1000,
            patience=1000,
            max_time=args.budget,
            steps_per_epoch=25,
            seed=0,
        )
        scores = evaluate([predict(model, im) for im in test_images], test_labels)
        training = model.info.training
        runs[precision] = {
            "policy": training["mixed_precision"],
            "patches": training["epochs_run"] * training["steps_per_epoch"] * 8,
            "iou": {k: round(v, 4) for k, v in scores["iou"]["per_class"].items()},
            "mean_iou": round(scores["iou"]["mean"], 4),
        }
    print(
        json.dumps(
            {
                "date": today(),
                "machine": machine(),
                "load_before": before,
                "load_after": load(),
                "budget_s": args.budget,
                "runs": runs,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
