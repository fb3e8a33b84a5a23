"""What the guard saw in the demo's correction round: the bundled nuclei model fine-tuned on the
first stained-tissue sample (as ``napari-segdl demo`` does), each epoch's F1@0.5 on the held-out
corrected blocks, its paired gain over the start and its gain of F1 over IoU 0.5:0.95.

    cd bench && python demo_guard.py [--seconds 60] ['{"lr": 5e-5}' ...]

Each JSON argument is one run's extra fine-tuning parameters (none: one run with the defaults).
"""

from __future__ import annotations

import argparse
import json

from _common import load, machine, today
from napari_segdl import load_model, train
from napari_segdl._sample_data import tissue_arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("tune", type=json.loads, nargs="*", help="extra parameters per run")
    args = parser.parse_args()
    print(f"# {machine()} {today()} load {load()}", flush=True)
    sample, start = tissue_arrays(0), load_model("nuclei")
    for extra in args.tune or [{}]:
        tuned = train([sample["image"]], [sample["instances"]], initial=start,
                      max_time=args.seconds, **extra)  # fmt: skip
        history, run = tuned.info.history, tuned.info.run
        print(json.dumps({
            "tune": extra,
            "steps": run.epochs_run * run.steps_per_epoch,
            "held_out_objects": history["verdict"][0]["objects"] if history.get("verdict") else 0,
            "start": round(history["start"]["score"][0], 4),
            "epochs": [round(score[0], 4) for score in history.get("score", [])],
            "gain_50": [round(v["gain"], 4) for v in history.get("verdict", [])],
            "gain_50_95": [round(v["gain_50_95"], 4) for v in history.get("verdict", [])],
            "kept_start": run.kept_start is not None,
        }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
