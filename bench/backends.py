"""Training throughput of one network under each Keras backend on this machine, in one run.

    python bench/backends.py --backends tensorflow torch --repeats 3

Each measurement is a fresh process of ``bench/gpu_throughput.py`` (the bundled model's U-Net:
16 filters, depth 4, batch norm, three classes, napari-segdl's loss, 256x256 random patches)
under ``KERAS_BACKEND``; the backends take turns ``--repeats`` times, so a machine that gets
busier or quieter during the run biases none of them. Prints the median patches/s per backend
and precision, and each backend's ratio to the first.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from _common import load, machine, today

HERE = Path(__file__).parent


def measure(backend: str, args) -> dict:
    """Patches/s per precision from one process on ``backend``."""
    command = [
        sys.executable,
        str(HERE / "gpu_throughput.py"),
        "--batch", str(args.batch), "--steps", str(args.steps), "--warmup", str(args.warmup),
        "--repeats", "1", "--precisions", *args.precisions,
    ]  # fmt: skip
    env = os.environ | {"KERAS_BACKEND": backend, "NAPARI_SEGDL_BACKEND": backend}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    report = json.loads(done.stdout[done.stdout.index("{") :])
    return {p: row["patches_per_s"] for p, row in report["results"].items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "torch"])
    parser.add_argument("--precisions", nargs="+", default=["float32", "mixed_bfloat16"])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cpu = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    flags = sorted({f for f in ("avx2", "avx512_bf16", "amx_bf16") if f in cpu.split()})
    before, rates = load(), {b: {p: [] for p in args.precisions} for b in args.backends}
    for _ in range(args.repeats):
        for backend in args.backends:
            for precision, rate in measure(backend, args).items():
                rates[backend][precision].append(rate)
    first = args.backends[0]
    results = {
        backend: {
            precision: {
                "patches_per_s": statistics.median(values),
                "runs": values,
                f"x_{first}": round(
                    statistics.median(values) / statistics.median(rates[first][precision]), 2
                ),
            }
            for precision, values in by_precision.items()
        }
        for backend, by_precision in rates.items()
    }
    print(
        json.dumps(
            {
                "date": today(),
                "machine": machine(),
                "cpu_flags": " ".join(flags),
                "load_before": before,
                "load_after": load(),
                "batch": args.batch,
                "steps": args.steps,
                "results": results,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
