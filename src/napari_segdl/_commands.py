"""What each ``napari-segdl`` sub-command does (argument parsing lives in ``cli.py``)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .core.errors import SegDLError
from .io.files import list_images, pair_by_stem, read_image, read_picture, write_labels


class _TrainingBar:
    """A tqdm progress bar fed with training events."""

    def __init__(self):
        self.bar = None

    def __call__(self, event) -> None:
        if event.kind == "start":
            print(f"training on {event.model.info.training['device']}")
            self.bar = tqdm(total=event.epochs * event.steps, unit="step", desc="training")
        elif event.kind == "step":
            self.bar.update(1)
        elif event.kind == "epoch":
            val = "" if event.val_iou is None else f" val IoU {event.val_iou:.3f}"
            self.bar.set_postfix_str(f"epoch {event.epoch} loss {event.loss:.3f}{val}")
        elif event.kind == "end":
            self.bar.close()
            best = f", best val IoU {event.val_iou:.3f}" if event.val_iou is not None else ""
            print(
                f"training ended ({event.reason}) after {event.epoch} epochs, "
                f"{event.elapsed:.0f} s; best epoch {event.best_epoch}{best}"
            )


def _check_out(path) -> None:
    if path.suffix != ".keras":
        raise SegDLError(f"--out must name a .keras file; received '{path}'.")


def train(args: argparse.Namespace) -> int:
    from .core.bundle import load_model
    from .core.config import TrainConfig
    from .core.training import train as train_model

    _check_out(args.out)
    pairs = pair_by_stem(list_images(args.images), list_images(args.labels))
    # every train flag is named like its TrainConfig field (--val-fraction -> val_fraction)
    params = {
        name: getattr(args, name) for name in TrainConfig.__dataclass_fields__ if name in args
    }
    model = train_model(
        [read_picture(i) for i, _ in pairs],
        [read_image(lab) for _, lab in pairs],
        sources=[(f"image '{i}'", f"labels '{lab}'") for i, lab in pairs],
        callback=_TrainingBar(),
        recipe=args.recipe,
        initial=load_model(args.from_model) if args.from_model else None,
        channel_axis=args.channel_axis,
        **params,
    )
    path = model.save(args.out)
    from .core.runs import RunLog, summarize_run

    RunLog().record(summarize_run(model, [str(i) for i, _ in pairs], bundle=str(path)))
    print(f"saved {path}")
    return 0


def predict(args: argparse.Namespace) -> int:
    from .core.bundle import load_model
    from .core.paths import writable_folder
    from .core.predict import check_threshold
    from .core.tiling import check_tile

    model = load_model(args.model)
    check_threshold(model, args.threshold)
    check_tile(args.tile, int(model.info.arch_params["depth"]))
    files = [f for path in args.inputs for f in _inputs(path)]
    writable_folder(args.out, "predictions")
    if args.scheduler:  # reachable before any work
        from .core.lazy import connect

        connect(args.scheduler).close()
    failed = []
    for path in tqdm(files, unit="image", desc="predicting"):
        try:
            _predict_file(model, path, args)
        except SegDLError as error:  # a bad file is reported and skipped; the others finish
            failed.append(path.name)
            tqdm.write(f"napari-segdl: error: {error} (skipped)", file=sys.stderr)
    done = len(files) - len(failed)
    print(f"wrote {done} label image(s) to {args.out}")
    if failed:
        print(
            f"napari-segdl: error: {len(failed)} of {len(files)} input(s) failed: "
            f"{', '.join(failed)}",
            file=sys.stderr,
        )
        return 2
    return 0


def _inputs(path: Path) -> list[Path]:
    """Image files of an input argument; a zarr store is one input."""
    from .io.lazy import is_zarr

    return [path] if is_zarr(path) else list_images(path)


def _predict_file(model, path: Path, args: argparse.Namespace) -> None:
    """Predict one input and write its labels (and probabilities); lazily when it is big."""
    from .core.predict import labels_and_probabilities
    from .core.predict import predict as predict_image
    from .io.lazy import open_lazy, wants_lazy

    image = open_lazy(path) if wants_lazy(path) else read_picture(path)
    options = {
        "tile": args.tile,
        "tta": args.tta,
        "name": f"'{path}'",
        "scheduler": args.scheduler,
    }
    suffix = f".{args.format}"
    if not args.probabilities:
        labels = predict_image(model, image, threshold=args.threshold, **options)
        _write(args.out / f"{path.stem}{suffix}", labels)
        return
    labels, scores = labels_and_probabilities(model, image, threshold=args.threshold, **options)
    _write(args.out / f"{path.stem}{suffix}", labels)
    _write(args.out / f"{path.stem}_probabilities{suffix}", scores)


def _write(path: Path, data) -> None:
    """numpy results as TIFF in one go; lazy results (and zarr) chunk by chunk."""
    from .io.lazy import write_lazy

    if path.suffix == ".tif" and isinstance(data, np.ndarray):
        write_labels(path, data)
        return
    if isinstance(data, np.ndarray):
        import dask.array as da

        data = da.from_array(data)
    write_lazy(path, data)


def preprocess(args: argparse.Namespace) -> int:
    from .core.preprocess import Recipe
    from .core.preprocess import preprocess as apply_recipe

    recipe = Recipe.load(args.recipe)
    files = [f for path in args.inputs for f in list_images(path)]
    for path in tqdm(files, unit="image", desc="preprocessing"):
        result = apply_recipe(read_picture(path), recipe, name=f"'{path}'")
        metadata = {"napari_segdl_recipe": recipe.to_dict(), "source": str(path)}
        write_labels(args.out / f"{path.stem}.tif", result, metadata=metadata)
    print(f"wrote {len(files)} preprocessed image(s) to {args.out}")
    return 0


def evaluate(args: argparse.Namespace) -> int:
    import json

    from .core.metrics import evaluate as score

    pairs = pair_by_stem(list_images(args.predictions), list_images(args.truth))
    result = score(
        [read_image(p) for p, _ in pairs],
        [read_image(t) for _, t in pairs],
        ignore=args.ignore,
        instance=args.instance,
        names=[p.stem for p, _ in pairs],
    )
    print(json.dumps(result, indent=1) if args.json else format_scores(result))
    return 0


def format_scores(result: dict) -> str:
    """The figures of :func:`evaluate` as a short text table."""
    lines = [f"{'class':>8} {'IoU':>7} {'Dice':>7} {'prec.':>7} {'recall':>7}"]
    for name in result["iou"]["per_class"]:
        row = [result[key]["per_class"][name] for key in ("iou", "dice", "precision", "recall")]
        lines.append(f"{name:>8} " + " ".join(_cell(v) for v in row))
    means = [result[key]["mean"] for key in ("iou", "dice", "precision", "recall")]
    lines.append(f"{'mean':>8} " + " ".join(_cell(v) for v in means))
    lines.append(f"pixel accuracy {_cell(result['pixel_accuracy']['overall'])}")
    if "ap50" in result:
        lines.append(
            f"instances: AP50 {_cell(result['ap50'])}  F1@0.5 {_cell(result['f1_50'])}  "
            f"AP50:95 {_cell(result['ap50_95'])}  matched IoU {_cell(result['mean_matched_iou'])}"
        )
    lines += [f"warning: {note}" for note in result["warnings"]]
    return "\n".join(lines)


def _cell(value) -> str:
    return f"{value:7.3f}" if value is not None else f"{'-':>7}"


def runs(args: argparse.Namespace) -> int:
    import json

    from .core.runs import RunLog

    log = RunLog()
    ranked = sorted(log.runs(), key=lambda r: -(r.get("best_val_iou") or -1))
    if args.json:
        print(json.dumps(ranked, indent=1))
        return 0
    print(f"{len(ranked)} run(s) in {log.path}")
    for run in ranked:
        iou = _cell(run.get("best_val_iou")).strip()
        print(
            f"{run['id']}  {run['finished']}  {run['arch']}/{run['mode']}  val IoU {iou}  "
            f"{run.get('epochs_run')} epochs, {run.get('seconds')} s  {run.get('bundle') or '-'}"
        )
    return 0


def demo(args: argparse.Namespace) -> int:
    from ._sample_data import SAMPLE_COUNT, nuclei_arrays

    if args.gui:
        return _demo_gui()
    from .core.metrics import evaluate
    from .core.training import train as train_model

    samples = [nuclei_arrays(i) for i in range(SAMPLE_COUNT)]
    train_set, test = samples[1:], samples[0]
    print(
        f"Training a small U-Net on {len(train_set)} bundled nuclei images "
        f"(up to {args.epochs} epochs or {args.max_time:.0f} s)..."
    )
    start = time.monotonic()
    model = train_model(
        [s["image"] for s in train_set],
        [s["masks"] for s in train_set],
        class_names=["background", "nucleus"],
        callback=_TrainingBar(),
        epochs=args.epochs,
        max_time=args.max_time,
        patch=128,
        batch=8,
        filters=16,
        depth=3,
        lr=2e-3,
        val_fraction=0.25,
        steps_per_epoch=10,
        patience=15,
    )
    prediction = model.predict(test["image"])
    score = evaluate(prediction, test["masks"])
    args.out.mkdir(parents=True, exist_ok=True)
    model.save(args.out / "nuclei-unet.keras")
    write_labels(args.out / "nuclei_0_prediction.tif", prediction)
    print(
        f"Held-out image nuclei_0: nucleus IoU {score['iou']['per_class']['1']:.3f}, "
        f"mean IoU {score['iou']['mean']:.3f}, pixel accuracy "
        f"{score['pixel_accuracy']['overall']:.3f} ({time.monotonic() - start:.0f} s)"
    )
    print(f"Model and prediction written to {args.out}/")
    return 0


def _demo_gui() -> int:
    import napari

    viewer = napari.Viewer(title="napari-segdl demo")
    viewer.open_sample("napari-segdl", "nuclei")
    viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    viewer.window.add_plugin_dock_widget("napari-segdl", "Predict")
    napari.run()
    return 0
