"""The demo's correction round (``napari-segdl demo``) over several seeds: the bundled nuclei
model fine-tuned on the tissue section sample's left half, scored on its right half (never
trained on) before and after, with the guard's verdict, the last epoch's score whatever the
guard said, and what it kept of what it knew (10 held-out DSB fluorescence images, the
correction curve's memory set).

    cd bench && python demo_round.py [--seconds 60] [--seeds 0 1 2] [--out FILE.jsonl]
"""

from __future__ import annotations

import argparse
import json

from _common import DATA, load, machine, today
from correction_curve import LastEpoch, kind_pools
from fine_tune import scores
from napari_segdl.flows.demo import right_half, section_round


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", help="append each row (JSON) to this file too")
    args = parser.parse_args()
    print(f"# {machine()} {today()} load {load()}", flush=True)
    memory = kind_pools(DATA)[1]
    for seed in args.seeds:
        keeper = LastEpoch()
        result = section_round(args.seconds, seed=seed, callback=keeper)
        tuned = result["tuned"]
        figures = ("f1_50", "ap50_95")
        row = {
            "seed": seed,
            "seconds": round(result["seconds"]),
            "steps": result["steps"],
            "replaced": tuned.info.run.kept_start is None,
            "verdicts": [
                [round(v[k], 4) for k in ("gain", "lower", "objects")]
                for v in tuned.info.history.get("verdict", [])
            ],
            **{
                name: {k: round(result[name][k], 4) for k in figures}
                for name in ("bundled", "adapted", "fine_tuned")
            },
            "memory_start": scores(result["model"], *memory),
            "memory_result": scores(tuned, *memory),
        }
        if keeper.weights is not None:  # the last epoch, whatever the guard said
            tuned.keras_model.set_weights(keeper.weights)
            last = right_half(tuned)[1]
            row["last_epoch"] = {k: round(last[k], 4) for k in figures}
            row["memory_last_epoch"] = scores(tuned, *memory)
        print(json.dumps(row), flush=True)
        if args.out:
            with open(args.out, "a") as file:
                file.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
