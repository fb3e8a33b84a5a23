"""The 3D default: what `napari-segdl train --dims 3 --mode instance` chooses on the shared 3D
data when no patch, batch or filters are given, its peak memory, its estimate and its F1; and
the estimate against the measured peak of a few small settings.

    python bench/memory_3d.py [--data ../shared/data] [--budget 240]

Each training runs in a fresh process, so its peak resident memory (``ru_maxrss``) is its own.
Data: ``qcanet-3d`` (Tokuoka et al. 2020, MIT): 16-cell -> 8-cell and 8-cell -> 16-cell, the
files' z spacing (2.18), masks numbered into nuclei in 3D; scores: 3D instance F1 and AP at
IoU 0.5.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from _common import DATA, machine, today

RUN = """
import json, resource, sys, time
sys.path.insert(0, {bench!r})
from pathlib import Path
from volumes_3d import qcanet
from napari_segdl import evaluate, predict, train
folder, stages, budget, settings = Path({folder!r}), {stages!r}, {budget!r}, {settings!r}
train_pair, test_pair = qcanet(folder, stages[0]), qcanet(folder, stages[1])
started = time.perf_counter()
model = train(*train_pair, dims=3, mode="instance", max_time=budget, spacing=(2.18, 1, 1),
              patience=None, **settings)
seconds = time.perf_counter() - started
info = model.info.training
scores = evaluate(predict(model, test_pair[0]), test_pair[1], instance=True)
print(json.dumps({{
    "split": " -> ".join(stages), "settings": settings or "chosen",
    "chosen": info["memory"].get("chosen"), "estimate_gib": info["memory"]["estimate_gib"],
    "peak_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    "f1_50": round(scores["f1_50"], 3), "ap50": round(scores["ap50"], 3),
    "steps": info["epochs_run"] * info["steps_per_epoch"], "seconds": round(seconds),
}}))
"""

SMALL = [  # (filters, batch, patch_z, patch): the estimate against the measured peak
    {"filters": 8, "batch": 1, "patch_z": 16, "patch": 64, "depth": 3},
    {"filters": 16, "batch": 2, "patch_z": 16, "patch": 64, "depth": 3},
    {"filters": 16, "batch": 2, "patch_z": 16, "patch": 112, "depth": 3},
    {"filters": 16, "batch": 4, "patch_z": 32, "patch": 128, "depth": 3},
]


def run(folder: Path, stages, budget: float, settings: dict) -> dict:
    code = RUN.format(
        bench=str(Path(__file__).parent),
        folder=str(folder),
        stages=stages,
        budget=budget,
        settings=settings,
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        return {"split": " -> ".join(stages), "settings": settings, "failed": done.stderr[-400:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--budget", type=float, default=240.0, help="training seconds per split")
    args = parser.parse_args()
    folder = args.data / "qcanet-3d"
    print(f"# {machine()} {today()} python {' '.join(sys.argv)}")
    for stages in (("16", "8"), ("8", "16")):
        print(json.dumps(run(folder, stages, args.budget, {})), flush=True)
    for settings in SMALL:
        print(json.dumps(run(folder, ("16", "8"), 20.0, settings)), flush=True)


if __name__ == "__main__":
    main()
