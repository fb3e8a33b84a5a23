"""What the guard saw in the demo's correction round: the bundled nuclei model fine-tuned on the
first stained-tissue sample (as ``napari-segdl demo`` did before its round moved to the tissue
section: see ``demo_round.py``), each epoch's F1@0.5 on the held-out
corrected blocks, its paired gain over the start and its gain of F1 over IoU 0.5:0.95.

    cd bench && python demo_guard.py [--seconds 60] [--unseen] ['{"lr": 5e-5}' ...]

Each JSON argument is one run's extra fine-tuning parameters (none: one run with the defaults).
``--unseen`` also scores, on the demo's three other tissue samples, the start, the run's result
and its last epoch whatever the guard said, and the average of the start's and the last epoch's
weights (what a refused epoch, or half of it, would have given).
"""

from __future__ import annotations

import argparse
import json

from _common import load, machine, today
from correction_curve import LastEpoch
from fine_tune import scores
from napari_segdl import load_model, train
from napari_segdl._sample_data import TISSUE_COUNT, tissue_arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--unseen", action="store_true", help="score the other samples too")
    parser.add_argument("tune", type=json.loads, nargs="*", help="extra parameters per run")
    args = parser.parse_args()
    print(f"# {machine()} {today()} load {load()}", flush=True)
    sample, start = tissue_arrays(0), load_model("nuclei")
    others = [tissue_arrays(i) for i in range(1, TISSUE_COUNT)]
    tests = ([s["image"] for s in others], [s["instances"] for s in others])
    for extra in args.tune or [{}]:
        keeper = LastEpoch()
        tuned = train([sample["image"]], [sample["instances"]], initial=start,
                      max_time=args.seconds, callback=keeper, **extra)  # fmt: skip
        history, run = tuned.info.history, tuned.info.run
        row = {
            "tune": extra,
            "steps": run.epochs_run * run.steps_per_epoch,
            "held_out_objects": history["verdict"][0]["objects"] if history.get("verdict") else 0,
            "start": round(history["start"]["score"][0], 4),
            "epochs": [round(score[0], 4) for score in history.get("score", [])],
            "gain_50": [round(v["gain"], 4) for v in history.get("verdict", [])],
            "gain_50_95": [round(v["gain_50_95"], 4) for v in history.get("verdict", [])],
            "kept_start": run.kept_start is not None,
        }
        if args.unseen and keeper.weights is not None:
            row["unseen"] = {"start": scores(start, *tests), "result": scores(tuned, *tests)}
            origin = start.keras_model.get_weights()
            tuned.keras_model.set_weights(keeper.weights)
            row["unseen"]["last_epoch"] = scores(tuned, *tests)
            halfway = [(a + b) / 2 for a, b in zip(origin, keeper.weights, strict=True)]
            tuned.keras_model.set_weights(halfway)
            row["unseen"]["halfway"] = scores(tuned, *tests)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
