"""The correction curve: what a round of corrected images buys the bundled nuclei model, by kind
of image — adapting only (levels and scale, no gradient step), fine-tuning (adapting first), and
training from scratch on the same images for the same seconds — and what fine-tuning forgets.

    cd bench && python correction_curve.py [--data ../../shared/data] [--rounds 1 2 4 8 10]
        [--budgets 60 120] [--kinds "stained tissue" fluorescence] [--plot curve.png]
        [--tune '{"replay": false}'] [--no-scratch] [--unguarded] [--set isbi]

The held-out split of DSB 2018 (``scripts/train_nuclei.py``'s: every fifth image, never trained
on) is sorted into kinds as in ``fine_tune.py``. In each kind the first 10 images (by id; at
most half the kind) are the pool of corrected images (their ground truth stands for a user's
corrections: a round of n uses the first n) and the others (at most 10) score: F1@0.5 and AP
0.5:0.95, pooled. *Forgetting*:
the fine-tuned model's F1 on 10 held-out fluorescence images outside every pool (the kind the
model does best), against the start's. ``--set isbi``: one kind where the model starts weak and
every image comes from one experiment — the cells of the ISBI 2012 EM stack (``isbi2012-em``,
each cell interior a labelled object): slices 0–9 the pool, 20–29 scored; memory as above.
Every training reports its steps beside its seconds, so a busy machine shows. A kind with
fewer than 3 images is listed with its count and skipped. ``--tune`` passes fine-tuning
parameters (the ablations of docs/benchmarks.md), ``--no-scratch`` leaves training from
scratch out. ``--unguarded`` also scores each run's last epoch whatever the guard said
(``last_epoch``, ``memory_last_epoch``): what a refused epoch would have given.
``memory_adapt_only``: the memory set after adapting alone (the adapted scale and levels apply
to every image the model predicts); ``--budgets`` with no value adapts only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from _common import DATA, load, load_isbi, machine, today
from fine_tune import kind, scores

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from napari_segdl import adapt, load_model, train
from train_nuclei import read, split

POOL, SCORED, MEMORY = 10, 10, 10


def steps(model) -> int:
    training = model.info.training
    return int(training.get("epochs_run", 0)) * int(training.get("steps_per_epoch", 0))


def guard(model) -> dict:
    """What the held-out corrected blocks said: the start's F1@0.5 there, each epoch's, and
    each epoch's paired F1@0.5 gain over the start, its lower bound and the gain of F1 over IoU
    0.5:0.95 (the guard's test)."""
    history = model.info.history
    keys = ("gain", "lower", "gain_50_95")
    return {
        "blocks": model.info.training.get("validation_patches"),
        "start": round(history.get("start", {}).get("score", [float("nan")])[0], 4),
        "epochs": [round(score[0], 4) for score in history.get("score", [])],
        "verdicts": [[round(v[k], 4) for k in keys] for v in history.get("verdict", [])],
    }


class LastEpoch:
    """A training callback that keeps the weights of the last epoch run."""

    def __init__(self):
        self.epoch, self.weights = 0, None

    def __call__(self, event) -> None:
        if event.kind == "epoch":
            self.epoch, self.weights = event.epoch, event.model.keras_model.get_weights()

    def scores(self, tuned, *sets) -> list[dict]:
        """``tuned`` with the last epoch's weights, scored on each (images, truths) of ``sets``."""
        if self.weights is None:
            return [{} for _ in sets]
        tuned.keras_model.set_weights(self.weights)
        return [scores(tuned, *s) | {"epoch": self.epoch} for s in sets]


def rounds_of(
    kind_name, pool, scored, memory, start, rounds, budgets, tune=None, scratch=True, last=False
):
    """One kind's curve: a row per (round, budget); ``tune``: fine-tuning's extra parameters;
    ``last``: score each run's last epoch too."""
    images, truths = pool
    row_base = {"kind": kind_name, "start": scores(start, *scored)}
    memory_start = scores(start, *memory)  # the same for every row
    for n in rounds:
        if n > len(images):
            continue
        picked = (images[:n], truths[:n])
        adapted = adapt(start, *picked)
        fitted = adapted.info.training["adapted"]
        yield {
            **row_base,
            "round": n,
            "adapt_only": scores(adapted, *scored),
            "adapted": fitted,
            "memory_adapt_only": scores(adapted, *memory),
        }
        for seconds in budgets:
            keeper = LastEpoch()
            tuned = train(*picked, initial=start, max_time=seconds, seed=1, callback=keeper,
                          **(tune or {}))  # fmt: skip
            row = {
                **row_base,
                "round": n,
                "seconds": seconds,
                "fine_tuned": scores(tuned, *scored) | {"steps": steps(tuned)},
                "kept_start": bool(tuned.info.training.get("kept_start")),
                "replay_patches": tuned.info.training.get("replay_patches", 0),
                "guard": guard(tuned),
                "memory_start": memory_start,
                "memory_fine_tuned": scores(tuned, *memory),
            }
            if last:
                row["last_epoch"], row["memory_last_epoch"] = keeper.scores(tuned, scored, memory)
            if scratch:
                scratch_model = train(
                    *picked, mode="instance", filters=16, depth=4, epochs=10_000,
                    max_time=seconds, seed=1,
                )  # fmt: skip
                row["from_scratch"] = scores(scratch_model, *scored) | {
                    "steps": steps(scratch_model)
                }
            yield row


def plot(rows: list[dict], path: Path) -> None:
    """F1@0.5 against the number of corrected images, one panel per kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = sorted({r["kind"] for r in rows})
    figure, axes = plt.subplots(1, len(kinds), figsize=(5 * len(kinds), 4), squeeze=False)
    for ax, name in zip(axes[0], kinds, strict=True):
        mine = [r for r in rows if r["kind"] == name]
        ax.axhline(mine[0]["start"]["f1_50"], color="grey", ls=":", label="bundled model")
        adapted = [r for r in mine if "adapt_only" in r]
        ax.plot([r["round"] for r in adapted], [r["adapt_only"]["f1_50"] for r in adapted],
                "o-", label="adapt only")  # fmt: skip
        for seconds in sorted({r["seconds"] for r in mine if "seconds" in r}):
            runs = [r for r in mine if r.get("seconds") == seconds]
            x = [r["round"] for r in runs]
            ax.plot(x, [r["fine_tuned"]["f1_50"] for r in runs], "s-",
                    label=f"fine-tuned {seconds:.0f} s")  # fmt: skip
            if all("from_scratch" in r for r in runs):
                ax.plot(x, [r["from_scratch"]["f1_50"] for r in runs], "^--",
                        label=f"from scratch {seconds:.0f} s")  # fmt: skip
        rounds = sorted({r["round"] for r in mine})
        ax.set(title=name, xlabel="corrected images", ylabel="F1@0.5 on unseen images",
               xscale="log", ylim=(0, 1))  # fmt: skip
        ax.set_xticks(rounds, [str(n) for n in rounds])
        ax.minorticks_off()
        ax.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def replot(lines: list[Path], path: Path) -> None:
    """The plot of the rows printed by earlier runs (their JSON lines files)."""
    rows = [
        json.loads(line)
        for file in lines
        for line in file.read_text().splitlines()
        if line.startswith("{")
    ]
    plot([r for r in rows if "round" in r], path)


def kind_pools(data: Path) -> tuple[dict, tuple]:
    """The held-out DSB images by kind: {kind: (pool, scored)}, each an (images, truths) pair,
    or the count of a kind too small for a curve; and the memory set (images, truths)."""
    folder = data / "dsb2018-nuclei"
    images, truths = read(folder, split(folder)[1])
    kinds: dict[str, list[int]] = {}
    for i, image in enumerate(images):
        kinds.setdefault(kind(image), []).append(i)
    memory = kinds.get("fluorescence", [])[-MEMORY:]
    pools: dict = {}
    for name, ids in kinds.items():
        chosen = [i for i in ids if i not in memory]
        if len(chosen) < 3:
            pools[name] = len(chosen)
            continue
        pool_ids = chosen[: min(POOL, len(chosen) // 2)]
        scored_ids = [i for i in chosen if i not in pool_ids][:SCORED]
        pools[name] = tuple(
            ([images[i] for i in part], [truths[i] for i in part])
            for part in (pool_ids, scored_ids)
        )
    return pools, ([images[i] for i in memory], [truths[i] for i in memory])


EM_CELLS = "EM cells (ISBI 2012)"


def isbi_pools(data: Path) -> dict:
    """The ISBI 2012 stack as one kind: {kind: (pool, scored)}; a cell is a connected region of
    interior pixels (label 255) between the membranes."""
    from skimage.measure import label

    def part(stems):
        images, labels = load_isbi(data / "isbi2012-em", stems)
        cells = [label(np.asarray(lab).squeeze() > 127, connectivity=1) for lab in labels]
        return [np.asarray(i).squeeze() for i in images], [c.astype(np.uint16) for c in cells]

    return {EM_CELLS: (part(range(10)), part(range(20, 30)))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--model", default="nuclei")
    parser.add_argument("--rounds", type=int, nargs="+", default=[1, 2, 4, 8, 10])
    parser.add_argument("--budgets", type=float, nargs="*", default=[60.0, 120.0],
                        help="seconds of fine-tuning (none: adapting only)")  # fmt: skip
    parser.add_argument("--kinds", nargs="+", default=None, help="default: every kind")
    parser.add_argument("--plot", type=Path, default=None, help="a PNG of the curves")
    parser.add_argument(
        "--tune",
        type=json.loads,
        default=None,
        help="fine-tuning's extra parameters, e.g. '{\"freeze_encoder\": false}'",
    )
    parser.add_argument("--no-scratch", action="store_true", help="skip training from scratch")
    parser.add_argument("--set", choices=("dsb", "isbi"), default="dsb", help="the images")
    parser.add_argument("--unguarded", action="store_true", help="score the last epochs too")
    parser.add_argument("--replot", type=Path, nargs="+", default=None,
                        help="only plot the rows of earlier runs' output files (to --plot)")  # fmt: skip
    args = parser.parse_args()
    if args.replot:
        replot(args.replot, args.plot)
        return
    kinds, memory_set = kind_pools(args.data)
    if args.set == "isbi":
        kinds = isbi_pools(args.data)
    print(f"# {machine()} {today()} load {load()} python {' '.join(sys.argv)}", flush=True)
    sizes = {
        k: v if isinstance(v, int) else [len(v[0][0]), len(v[1][0])] for k, v in kinds.items()
    }
    print("pool, scored:", json.dumps(sizes), flush=True)
    start, rows = load_model(args.model), []
    for name in args.kinds or sorted(kinds):
        if isinstance(kinds.get(name, 0), int):
            print(json.dumps({"kind": name, "skipped": f"{kinds.get(name, 0)} image(s)"}))
            continue
        pool, scored = kinds[name]
        curve = rounds_of(name, pool, scored, memory_set, start, args.rounds, args.budgets,
                          args.tune, not args.no_scratch, args.unguarded)  # fmt: skip
        for row in curve:
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.plot is not None and rows:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
