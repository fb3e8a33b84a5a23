"""Instance representations compared at equal training steps: boundary classes, star-convex
distances (StarDist's idea) and flow fields (cellpose's idea) on one U-Net backbone.

    python bench/representations.py --set dsb --rep boundary --steps 1200 --out FILE.jsonl
    python bench/representations.py --set usiigaci --usiigaci DIR --rep flow --steps 1200
    python bench/representations.py --table FILE.jsonl      # the markdown table of the runs

Only the targets, the network's last 1x1 convolution, the loss and the post-processing differ:
the same 16-filter depth-4 U-Net (batch norm, mixed bfloat16 where the CPU has it), 256 x 256
grey patches, batch 8, flips and quarter turns (the targets turned with them) and intensity
jitter, Adam with a cosine-decayed learning rate, the same seed. The post-processing levels are
tuned on validation images (every tenth training image), then the held-out images are scored.

Sets:
- ``dsb``: ``../shared/data/dsb2018-nuclei`` (CC0), the split of ``bench/dsb_instances.py``
  (every fifth id held out); images turned grey.
- ``usiigaci``: the phase-contrast cells of ``oist/Usiigaci`` (MIT), folder ``Mask R-CNN``:
  ``DIR/images/{train,val}_setN.tif`` (each set's ``raw.tif``) and ``DIR/labels/…png`` (its
  ``instances_ids.png``), as ``bench/usiigaci.py`` lays them out from a clone; train sets 1-45
  train (every ninth validates), val sets 46-50 score.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from _common import DATA, load, machine, today

PATCH, BATCH, FILTERS, DEPTH = 256, 8, 16, 4
_LEVELS = (0.3, 0.5, 0.7, 0.8, 0.9)
GRIDS = {
    "boundary": [{"seed": s, "extent": e} for s in _LEVELS for e in _LEVELS],
    "star": [{"prob": p, "nms": n} for p in _LEVELS for n in (0.3, 0.4, 0.5)],
    "flow": [{"prob": p, "gather": g} for p in _LEVELS for g in (5, 10, 20)],
}
#: Where each run's trained weights are kept, so that ``--retune`` can score them again.
WEIGHTS = Path.home() / ".cache" / "napari-segdl-bench"


def grey(image: np.ndarray) -> np.ndarray:
    """Luminance of an RGB(A) image, the image itself if grey; scaled by its 1-99.8 %iles."""
    from skimage.color import rgb2gray

    image = np.asarray(image, np.float32)
    if image.ndim == 3:
        image = rgb2gray(image[..., :3])
    low, high = np.percentile(image, [1, 99.8])
    return ((image - low) / max(high - low, 1e-6)).astype(np.float32)


def read_set(name: str, usiigaci: Path | None):
    """(train, validation, test) lists of (name, grey image, instance labels)."""
    from napari_segdl.io.files import read_image

    def pairs(images, labels, names):
        return [
            (n, grey(read_image(i)), np.asarray(read_image(lab)).astype(np.int32))
            for n, i, lab in zip(names, images, labels, strict=True)
        ]

    if name == "dsb":
        folder = DATA / "dsb2018-nuclei"
        ids = sorted(p.stem for p in (folder / "images").glob("*.png"))
        train = [i for n, i in enumerate(ids) if n % 5 != 4]
        test = [i for n, i in enumerate(ids) if n % 5 == 4]
        val = train[::10]
        train = [i for i in train if i not in val]
        files = [([folder / "images" / f"{i}.png" for i in s], [folder / "labels" / f"{i}.png" for i in s], s) for s in (train, val, test)]  # fmt: skip
    else:
        folder = Path(usiigaci)
        train = [f"train_set{n}" for n in range(1, 46) if n % 9]
        val = [f"train_set{n}" for n in range(9, 46, 9)]
        test = [f"val_set{n}" for n in range(46, 51)]
        files = [([folder / "images" / f"{i}.tif" for i in s], [folder / "labels" / f"{i}.png" for i in s], s) for s in (train, val, test)]  # fmt: skip
    return [pairs(*f) for f in files]


def targets_of(rep: str, labels: np.ndarray) -> np.ndarray:
    from napari_segdl.core.labels import flows, starconvex
    from napari_segdl.core.labels.instances import instance_targets

    if rep == "boundary":
        return instance_targets(labels).astype(np.uint8)[..., None]
    if rep == "star":
        target = starconvex.star_targets(labels)
        return target.astype(np.float16)  # distances are whole steps (< 2048): exact
    return flows.flow_targets(labels).astype(np.float16)


def turn(rep: str, target: np.ndarray, k: int, flip: bool) -> np.ndarray:
    from napari_segdl.core.labels import flows, starconvex

    module = {"star": starconvex, "flow": flows}.get(rep)
    if module is None:
        target = np.rot90(target, k, axes=(0, 1))
        return np.flip(target, 1) if flip else target
    target = module.rotate_targets(target, k)
    return module.flip_targets(target, 1) if flip else target


def batches(rep, data, rng):
    """Endless (x, y) batches of random patches, augmented."""
    from napari_segdl.core.train.augment import intensity

    while True:
        xs, ys = [], []
        for _ in range(BATCH):
            image, target = data[int(rng.integers(len(data)))]
            pad = [(0, max(0, PATCH - s)) for s in image.shape]
            image = np.pad(image, pad, mode="reflect")
            target = np.pad(target, [*pad, (0, 0)])
            top = int(rng.integers(image.shape[0] - PATCH + 1))
            left = int(rng.integers(image.shape[1] - PATCH + 1))
            window = (slice(top, top + PATCH), slice(left, left + PATCH))
            k, flip = int(rng.integers(4)), bool(rng.integers(2))
            x = np.rot90(image[window], k)
            xs.append(intensity((np.flip(x, 1) if flip else x)[..., None], rng))
            ys.append(turn(rep, target[window].astype(np.float32), k, flip))
        yield np.stack(xs), np.stack(ys)


def network(rep: str, channels: int, lr: float, steps: int, class_weights=None):
    import keras

    from napari_segdl.core.models.unet import build_unet
    from napari_segdl.core.train import losses

    base = build_unet(1, 3, depth=DEPTH, filters=FILTERS, name=rep)
    if rep == "boundary":
        model, loss = base, losses.segmentation_loss(class_weights, dice=True)
    else:
        features = base.get_layer("classifier_conv").input
        head = keras.layers.Conv2D(channels, 1, dtype="float32", name="head")(features)
        model = keras.Model(base.input, head, name=rep)
        loss = losses.star_loss() if rep == "star" else losses.flow_loss()
    schedule = keras.optimizers.schedules.CosineDecay(lr, steps, alpha=0.01)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss)
    return model


def infer(model, rep: str, image: np.ndarray) -> np.ndarray:
    """The network's outputs on a whole image, probabilities where they are logits."""
    height, width = image.shape
    size = 2**DEPTH
    pad = [(0, -height % size), (0, -width % size)]
    out = model.predict_on_batch(np.pad(image, pad, mode="reflect")[None, ..., None])
    out = np.asarray(out, np.float32)[0, :height, :width]
    if rep == "star":
        out[..., 0] = 1 / (1 + np.exp(-out[..., 0]))
    if rep == "flow":
        out[..., :2] /= 5.0
        out[..., 2] = 1 / (1 + np.exp(-out[..., 2]))
    return out


_ENDS: dict = {}


def objects(rep: str, out: np.ndarray, levels: dict, min_size: int) -> np.ndarray:
    from napari_segdl.core.labels import flows, starconvex
    from napari_segdl.core.labels.instances import instances_from_probabilities

    if rep == "boundary":
        return instances_from_probabilities(out, min_size, **levels)
    if rep == "star":
        return starconvex.instances_from_stars(out[..., 0], out[..., 1:], min_size=min_size, **levels)  # fmt: skip
    mask = out[..., 2] > levels["prob"]
    key = (id(out), levels["prob"])  # one walk each; outputs kept, so ids stay unique
    if key not in _ENDS:
        _ENDS[key] = (out, flows.follow(out[..., :2], mask) if mask.any() else np.zeros((0, 2)))
    return flows.group(_ENDS[key][1], mask, levels["gather"], min_size)


def table(path: Path) -> str:
    """The runs recorded in ``path`` (JSON lines) as a markdown table."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    out = [
        "| set | representation | steps (patches) | training s | levels | F1@0.5 | AP 0.5:0.95 | "
        "precision | recall | predict s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        levels = ", ".join(f"{k} {v}" for k, v in r["levels"].items())
        out.append(
            f"| {r['set']} | {r['rep']} | {r['steps']} ({r['patches']}) | {r['training_seconds']} "
            f"| {levels} | {r['f1_50']:.3f} | {r['ap50_95']:.3f} | {r['precision_50']:.3f} | "
            f"{r['recall_50']:.3f} | {r['predict_seconds']} |"
        )
    return "\n".join(out)


def fit(model, args, data) -> tuple[float, list]:
    """Train ``args.steps`` steps; the seconds and the losses."""
    stream = batches(args.rep, data, np.random.default_rng(args.seed))
    started, losses = time.monotonic(), []
    for step in range(1, args.steps + 1):
        losses.append(float(model.train_on_batch(*next(stream))))
        if step % 100 == 0:
            print(f"step {step} loss {np.mean(losses[-100:]):.4f} {time.monotonic() - started:.0f} s", flush=True)  # fmt: skip
    return time.monotonic() - started, losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["dsb", "usiigaci"], default="dsb")
    parser.add_argument("--usiigaci", type=Path, help="folder with images/ and labels/")
    parser.add_argument("--rep", choices=list(GRIDS), default="boundary")
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-bf16", action="store_true", help="train in float32")
    parser.add_argument("--out", type=Path, help="append the result (one JSON line) here")
    parser.add_argument("--quick", action="store_true", help="a few images only: a smoke test")
    parser.add_argument("--table", type=Path, help="print the runs of this JSONL file; no run")
    parser.add_argument(
        "--retune", action="store_true", help="no training: tune and score the kept weights"
    )
    args = parser.parse_args()
    if args.table:
        print(table(args.table))
        return
    import keras

    from napari_segdl import evaluate
    from napari_segdl.core.labels.instances import min_object_size
    from napari_segdl.core.train.losses import median_frequency_weights

    cpu = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    bf16 = "avx512_bf16" in cpu and not args.no_bf16
    if bf16:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    keras.utils.set_random_seed(args.seed)
    started = time.monotonic()
    train, val, test = read_set(args.set, args.usiigaci)
    if args.quick:
        train, val, test = train[:6], val[:2], test[:2]
    data = [(image, targets_of(args.rep, labels)) for _, image, labels in train]
    weights = None
    if args.rep == "boundary":
        weights = median_frequency_weights([t[..., 0] for _, t in data], 3)
    prepared = time.monotonic() - started
    model = network(args.rep, data[0][1].shape[-1], args.lr, args.steps, weights)
    kept = WEIGHTS / f"{args.set}-{args.rep}-{args.steps}-{args.seed}.weights.h5"
    if args.retune:
        model.load_weights(kept)
        trained, losses = json.loads(kept.with_suffix(".json").read_text()).values()
    else:
        trained, losses = fit(model, args, data)
        kept.parent.mkdir(parents=True, exist_ok=True)
        model.save_weights(kept)
        kept.with_suffix(".json").write_text(json.dumps({"trained": trained, "losses": losses}))
    min_size = min_object_size([labels for _, _, labels in train])
    outputs = [infer(model, args.rep, image) for _, image, _ in val]
    tuning = []
    for levels in GRIDS[args.rep]:
        found = [objects(args.rep, out, levels, min_size) for out in outputs]
        f1 = evaluate(found, [lab for _, _, lab in val], instance=True)["f1_50"]
        tuning.append((round(float(f1), 4), levels))
    best = max(tuning, key=lambda row: row[0])[1]
    started = time.monotonic()
    found = [objects(args.rep, infer(model, args.rep, image), best, min_size) for _, image, _ in test]  # fmt: skip
    predicted = time.monotonic() - started
    truths = [lab for _, _, lab in test]
    scores = evaluate(found, truths, instance=True, names=[n for n, _, _ in test])
    result = {
        "date": today(),
        "machine": machine(),
        "cpu_flags": "avx512_bf16" if "avx512_bf16" in cpu else "avx2" if "avx2" in cpu else "",
        "load_after": load(),
        "set": args.set,
        "rep": args.rep,
        "steps": args.steps,
        "patches": args.steps * BATCH,
        "lr": args.lr,
        "bf16": bf16,
        "seed": args.seed,
        "train_images": len(train),
        "test_images": len(test),
        "prepare_seconds": round(prepared),
        "training_seconds": round(trained),
        "predict_seconds": round(predicted, 1),
        "final_loss": round(float(np.mean(losses[-100:])), 4),
        "levels": best,
        "tuning": tuning,
    } | {k: round(float(scores[k]), 4) for k in ("f1_50", "ap50", "ap50_95", "precision_50", "recall_50")}  # fmt: skip
    line = json.dumps(result)
    print(line)
    if args.out:
        with open(args.out, "a") as stream_out:
            stream_out.write(line + "\n")


if __name__ == "__main__":
    main()
