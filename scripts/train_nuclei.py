"""Train the bundled nuclei model on DSB 2018 (CC0), resumably, and score it on a held-out split.

    python scripts/train_nuclei.py --budget 3600            # an hour of training, in total
    python scripts/train_nuclei.py --budget 3600            # again after a stop: it resumes
    python scripts/train_nuclei.py --finish                  # write the bundled model
    python scripts/train_nuclei.py --head flow --recipe nuclear_stain --from nuclei \
        --lr-schedule cosine --checkpoint NEW.keras   # a model's weights under a new schedule
    python scripts/nuclei_card.py --models nuclei C           # score checkpoint C beside it

Split: the image ids of ``dsb2018-nuclei`` sorted by name; every fifth one (index % 5 == 4) is
kept aside for scoring (the split of ``bench/dsb_instances.py``), the others train, except the
four images the package ships as its sample (so the demo scores on unseen images);
``--sbsst265 DIR`` adds S-BSST265's training split (CC0). Images go through the model's recipe
(``--recipe``: ``to_grey``, luminance for everything, the first bundled model; or
``nuclear_stain``, a stained slide's haematoxylin with nuclei bright, other images grey), which
prediction applies too, so one network serves fluorescence, brightfield and H&E. ``--head``
chooses instance mode's head (``flow`` for the new generalist); ``--precision off`` trains in
float32 where bfloat16 is slower.

The best model so far is written to ``--checkpoint`` (one file, overwritten, committed to the
repository so that a run can go on in a later session on another machine); a run resumes from
it with the time already spent counted. ``--finish`` writes the bundle with its provenance
(command, data hash, seed, duration, machine, and ``scripts/nuclei_card.py``'s held-out figures
by kind) in its metadata; the SHA-256 it prints goes into ``core/models/bundled/__init__.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "dsb2018-nuclei"
CHECKPOINT = ROOT / "scripts" / "checkpoints" / "nuclei.keras"
OUT = ROOT / "src" / "napari_segdl" / "core" / "models" / "bundled" / "nuclei.keras"
RECIPES = {
    "to_grey": [{"op": "to_grey"}],  # the first bundled model: luminance for everything
    "nuclear_stain": [{"op": "nuclear_stain"}],  # stained slides: haematoxylin, nuclei bright
}
NETWORK = {"arch": "unet", "filters": 16, "depth": 4, "patch": 256, "batch": 8}


def sample_ids() -> set[str]:
    """The DSB ids of the package's sample images (samples/CREDITS.md): never trained on, so
    that the demo and the tutorial score the bundled model on images it has not seen."""
    credits = ROOT / "src" / "napari_segdl" / "samples" / "CREDITS.md"
    return set(re.findall(r"\b[0-9a-f]{64}\b", credits.read_text()))


def split(folder: Path) -> tuple[list[str], list[str]]:
    """(training ids, held-out ids): every fifth id held out; the sample images left out."""
    ids = sorted(p.stem for p in (folder / "images").glob("*.png"))
    held_out = [i for n, i in enumerate(ids) if n % 5 == 4]
    samples = sample_ids()
    return [i for n, i in enumerate(ids) if n % 5 != 4 and i not in samples], held_out


def read(folder: Path, ids: list[str]):
    from napari_segdl.io.files import read_image

    images = [read_image(folder / "images" / f"{i}.png") for i in ids]
    images = [im[..., :3] if im.ndim == 3 else im for im in images]  # alpha dropped
    labels = [read_image(folder / "labels" / f"{i}.png") for i in ids]
    return images, labels


def sbsst265(folder: Path, split: str = "train"):
    """The images and nuclei of one split of S-BSST265 (Kromp et al. 2020, CC0: fluorescence
    nuclei of tissue sections, cytospins, touch imprints and cell lines), as its
    ``image_description.csv`` splits them: ``folder`` holds ``rawimages/``, ``groundtruth/``
    and that table (``cell_nuclei_segmentation/dataset`` of madziejm/cell-nuclei-segmentation)."""
    from napari_segdl.io.files import read_image

    rows = (folder / "image_description.csv").read_text(encoding="utf-8").splitlines()[1:]
    names = sorted(r.split(";")[0] for r in rows if r.split(";")[3] == split)
    images = [read_image(folder / "rawimages" / f"{n}.tif") for n in names]
    labels = [read_image(folder / "groundtruth" / f"{n}.tif") for n in names]
    return names, images, labels


def files_hash(folder: Path, names: list[str]) -> str:
    """SHA-256 over S-BSST265's images and nuclei of ``names``."""
    digest = hashlib.sha256()
    for name in names:
        for kind in ("rawimages", "groundtruth"):
            digest.update(hashlib.sha256((folder / kind / f"{name}.tif").read_bytes()).digest())
    return digest.hexdigest()


def data_hash(folder: Path, ids: list[str]) -> str:
    digest = hashlib.sha256()
    for i in ids:
        for kind in ("images", "labels"):
            digest.update(i.encode())
            digest.update(hashlib.sha256((folder / kind / f"{i}.png").read_bytes()).digest())
    return digest.hexdigest()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    for line in (
        Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    ):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()}"


def spent(model) -> float:
    return float(model.info.training.get("provenance", {}).get("seconds_total", 0.0))


def train_more(args) -> None:
    from napari_segdl import load_model, preprocess, train
    from napari_segdl.core.labels.heads import head_of
    from napari_segdl.core.preprocess import Recipe

    folder = Path(args.data)
    train_ids, _ = split(folder)
    images, labels = read(folder, train_ids)
    more = ""
    if args.sbsst265:
        names, extra_images, extra_labels = sbsst265(Path(args.sbsst265))
        images, labels = images + extra_images, labels + extra_labels
        more = f"; S-BSST265 (Kromp et al. 2020, CC0), its {len(names)} training images"
    recipe = Recipe.coerce(RECIPES[args.recipe])
    grey = [preprocess(im, recipe) for im in images]
    resumed = Path(args.checkpoint).is_file()
    start_from = args.checkpoint if resumed else args.start
    initial = load_model(start_from) if start_from else None
    if initial is not None and head_of(initial.info.arch_params) != args.head:
        sys.exit(f"{start_from} has the {head_of(initial.info.arch_params)} head, not "
                 f"{args.head}: name another --checkpoint")  # fmt: skip
    before = spent(initial) if initial is not None else 0.0
    left = args.budget - before
    if left <= 1:
        print(f"{before:.0f} s of {args.budget:.0f} s already trained; run --finish")
        return
    # a resumed run goes on at its last rate; one that starts from another model (--from) begins
    # a new schedule at --lr, a warm restart of its weights
    lr = initial.info.history.get("lr", [args.lr])[-1] if resumed else args.lr
    known = initial.info.training.get("provenance", {}) if initial is not None else {}
    earlier = known.get("continued_from") if resumed else known  # the run before the restart
    start = time.monotonic()
    provenance = {
        "command": "python scripts/train_nuclei.py " + " ".join(sys.argv[1:]),
        "data": (
            f"dsb2018-nuclei (BBBC038, CC0), {len(train_ids)} images (ids sorted, index % 5 "
            "!= 4, the package's 4 sample images left out)" + more
        ),
        "data_sha256": data_hash(folder, train_ids),
        **({"sbsst265_sha256": files_hash(Path(args.sbsst265), names)} if args.sbsst265 else {}),
        "seed": args.seed,
        "machine": machine(),
        "precision": args.precision,
        **({"continued_from": earlier} if earlier else {}),
    }

    def keep_best(event) -> None:
        if event.kind == "epoch":
            print(
                f"epoch {event.epoch}: loss {event.loss:.4f} val IoU {event.val_iou or 0:.4f} "
                f"best {event.best_epoch} ({before + event.elapsed:.0f} s in all)",
                flush=True,
            )
        if event.kind == "epoch" and event.best_epoch == event.epoch:
            total = before + time.monotonic() - start
            event.model.info.training["provenance"] = {**provenance, "seconds_total": total}
            event.model.save(args.checkpoint)

    model = train(
        grey,
        labels,
        mode="instance",
        instance_head=args.head,
        recipe=recipe,
        initial=initial,
        epochs=100_000,
        patience=args.patience,
        max_time=left,
        lr=lr,
        lr_schedule=args.lr_schedule,
        seed=args.seed + (1 if initial is not None else 0),
        augment_intensity=True,
        steps_per_epoch=50,
        mixed_precision=args.precision,
        callback=keep_best,
        **({} if initial is not None else NETWORK),
        **({"patch": NETWORK["patch"], "batch": NETWORK["batch"]} if initial is not None else {}),
    )
    total = before + time.monotonic() - start
    model.info.training["provenance"] = {**provenance, "seconds_total": total}
    model.save(args.checkpoint)  # best weights, with the levels tuned after training
    print(f"trained {total:.0f} s in all; checkpoint {args.checkpoint}")


def finish(args) -> None:
    """Write the bundle from the checkpoint, the card's figures in its provenance."""
    from napari_segdl import load_model
    from nuclei_card import card, held_out

    model = load_model(args.checkpoint)
    rows, _ = card(model, *held_out(Path(args.data), args.sbsst265 and Path(args.sbsst265)))
    model.info.training["provenance"]["held_out_scores"] = rows
    model.info.training["provenance"]["finished"] = datetime.now(timezone.utc).isoformat(
        timespec="seconds"
    )
    path = model.save(args.out)
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    print(json.dumps({"bundle": str(path), "sha256": digest, "bytes": path.stat().st_size}))
    print(json.dumps(rows, indent=1))


def picture(image, prediction, truth, path: Path) -> None:
    """The image with the truth's outlines in green and the prediction's in magenta (PNG)."""
    import imageio.v3 as iio
    from skimage.segmentation import find_boundaries

    grey = image if image.ndim == 2 else image[..., :3].mean(-1)
    low, high = np.percentile(grey, [1, 99.8])
    shown = np.clip((grey - low) / max(high - low, 1e-6), 0, 1)
    rgb = (np.dstack([shown] * 3) * 255).astype(np.uint8)
    rgb[find_boundaries(truth, mode="inner")] = (0, 220, 0)
    rgb[find_boundaries(prediction, mode="inner")] = (255, 0, 255)
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, rgb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--budget", type=float, default=3600.0, help="training seconds in all")
    parser.add_argument("--checkpoint", default=str(CHECKPOINT))
    parser.add_argument(
        "--from",
        dest="start",
        help="start from this model's weights (a new schedule at --lr; its seconds count) "
        "when --checkpoint does not exist yet",
    )
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--head", choices=["boundary", "distance", "flow"], default="boundary")
    parser.add_argument("--recipe", choices=list(RECIPES), default="to_grey")
    parser.add_argument("--sbsst265", help="also train on S-BSST265's training split (folder)")
    parser.add_argument(
        "--precision",
        choices=["auto", "off", "bfloat16"],
        default="auto",
        help="off where bfloat16 trains slower (bench/backends.py tells)",
    )
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument(
        "--lr-schedule",
        choices=["plateau", "cosine", "constant"],
        default="plateau",
        help="cosine: down to 1/64 over the budget left (a resumed run starts it again)",
    )
    parser.add_argument("--patience", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--finish", action="store_true", help="score the checkpoint, write the bundle"
    )
    args = parser.parse_args()
    Path(args.checkpoint).parent.mkdir(parents=True, exist_ok=True)
    finish(args) if args.finish else train_more(args)


if __name__ == "__main__":
    main()
