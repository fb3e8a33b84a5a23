"""Flows on files: what each ``napari-segdl`` command does, as one library call each.

They read with :mod:`napari_segdl.io`, compute with :mod:`napari_segdl.core`, write atomically,
and report progress on the terminal (tqdm). The CLI parses arguments and calls one of them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..core.errors import SegDLError
from ..io.files import (
    file_stem,
    list_images,
    pair_by_stem,
    read_labels,
    read_picture,
    write_tiff,
)
from ..io.nifti import is_nifti
from .console import TrainingBar


def train_files(
    images: str | os.PathLike,
    labels: str | os.PathLike,
    out: str | os.PathLike,
    *,
    from_model: str | os.PathLike | None = None,
    recipe: str | os.PathLike | None = None,
    channel_axis: int | None = None,
    colour_labels: bool = False,
    preset: str | None = None,
    progress: bool = True,
    spacing=None,
    **params,
) -> Path:
    """Train on image and label files (or folders paired by stem), save the model to ``out``
    and record the run; ``params`` are the training parameters. Returns the saved path.
    ``spacing`` (z, y, x) of volumes: by default a NIfTI volume's own."""
    from ..core.bundle import load_model
    from ..core.train.api import train
    from ..core.train.config import TrainConfig
    from ..core.train.runs import record_run

    out = Path(out)
    if out.suffix != ".keras":
        raise SegDLError(f"--out must name a .keras file; received '{out}'.")
    TrainConfig.create(preset, **params)  # bad parameters fail before any file is read
    pairs = pair_by_stem(list_images(images), list_images(labels))
    if spacing is None and params.get("dims") == 3 and is_nifti(pairs[0][0]):
        from ..io.nifti import nifti_spacing

        spacing = nifti_spacing(pairs[0][0])  # a volume's own, from its header alone
        spacing = spacing if spacing and len(spacing) == 3 else None
    model = train(
        [read_picture(i) for i, _ in pairs],
        [read_labels(lab, colours=colour_labels) for _, lab in pairs],
        sources=[(f"image '{i}'", f"labels '{lab}'") for i, lab in pairs],
        callback=TrainingBar() if progress else None,
        recipe=recipe,
        initial=load_model(from_model) if from_model else None,
        channel_axis=channel_axis,
        preset=preset,
        spacing=spacing,
        **params,
    )
    path = model.save(out)
    record_run(model, [str(i) for i, _ in pairs], bundle=path)
    return path


@dataclass
class FilesReport:
    """What a flow over many files did: its inputs, the files written and the inputs that failed
    (name: why)."""

    inputs: int = 0
    written: list[Path] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def predict_files(
    model,
    inputs: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    options=None,
    *,
    file_format: str = "tif",
    progress: bool = True,
    **keywords,
) -> FilesReport:
    """Predict image files and folders (zarr stores, big TIFFs lazily) into ``out/<stem>.tif``.

    ``options`` (:class:`~napari_segdl.core.infer.options.PredictOptions`) and ``keywords`` of
    the same names say how; ``probabilities`` and ``uncertainty`` also write
    ``<stem>_probabilities`` and ``<stem>_uncertainty``. Options are checked and the folder
    (and scheduler) reached before any work; a bad input is reported on stderr and skipped, and
    the others finish. ``model`` may be a BioImage Model Zoo package (see
    :func:`predict_zoo_files`).
    """
    from ..core.infer.options import PredictOptions
    from ..core.interop.zoo import is_zoo_package

    options = PredictOptions.of(options, **keywords)
    if is_zoo_package(model):
        return predict_zoo_files(
            model, inputs, out, allow_code=options.allow_code, progress=progress
        )
    from ..core.bundle import SegModel, load_model
    from ..core.paths import writable_folder
    from ..io.chunked import is_zarr

    if not isinstance(model, SegModel):
        model = load_model(model)
    options.check_for(model)  # the one check, before any file is read
    files = [f for path in inputs for f in ([Path(path)] if is_zarr(path) else list_images(path))]
    out = writable_folder(out, "predictions")
    if options.scheduler:  # reachable before any work
        from ..core.infer.chunks import connect

        connect(options.scheduler).close()
    report = FilesReport(inputs=len(files))
    for path in tqdm(files, unit="image", desc="predicting", disable=not progress):
        try:
            report.written += _predict_file(model, path, out, f".{file_format}", options)
        except SegDLError as error:  # a bad file is reported and skipped; the others finish
            report.failed[path.name] = str(error)
            tqdm.write(f"napari-segdl: error: {error} (skipped)", file=sys.stderr)
    return report


def _predict_file(model, path: Path, out: Path, suffix, options) -> list[Path]:
    """Predict one input and write its labels (and probabilities, uncertainty); lazily when it
    is big."""
    from ..core.infer.predict import labels_and_probabilities, run
    from ..core.infer.uncertainty import uncertainty_map
    from ..io.chunked import open_lazy, wants_lazy

    image = open_lazy(path) if wants_lazy(path) else read_picture(path)
    name, stem = f"'{path}'", file_stem(path)
    options = options.resolved(model, image)
    ran = {"engine": options.engine}  # in the TIFF's metadata: the engine that runs
    if not (options.probabilities or options.uncertainty):
        labels = run(model, image, options, name)
        return [_write_labels(path, out, suffix, labels, ran)]
    labels, scores = labels_and_probabilities(model, image, options, name)
    written = [_write_labels(path, out, suffix, labels, ran)]
    if options.probabilities:
        written.append(_write(out / f"{stem}_probabilities{suffix}", scores))
    if options.uncertainty:
        classes = model.class_map.num_classes
        if isinstance(scores, np.ndarray):
            doubt = uncertainty_map(scores, classes)
        else:
            doubt = scores.map_blocks(uncertainty_map, classes, drop_axis=scores.ndim - 1)
        written.append(_write(out / f"{stem}_uncertainty{suffix}", doubt))
    return written


def _write_labels(source: Path, out: Path, suffix: str, labels, metadata=None) -> Path:
    """The labels of one input: NIfTI in the source's orientation and affine for a NIfTI
    volume, else in the chosen format."""
    if is_nifti(source):
        from ..io.nifti import write_nifti

        return write_nifti(np.asarray(labels), out / f"{file_stem(source)}.nii.gz", like=source)
    return _write(out / f"{source.stem}{suffix}", labels, metadata)


def _write(path: Path, data, metadata: dict | None = None) -> Path:
    """numpy results as TIFF in one go (with ``metadata``); lazy results (and zarr) chunk by
    chunk."""
    from ..io.chunked import write_lazy

    if path.suffix == ".tif" and isinstance(data, np.ndarray):
        return write_tiff(path, data, metadata)
    if isinstance(data, np.ndarray):
        import dask.array as da

        data = da.from_array(data)
    return write_lazy(path, data)


def preprocess_files(
    recipe, inputs: Sequence[str | os.PathLike], out: str | os.PathLike, progress: bool = True
) -> list[Path]:
    """Apply a recipe to image files into ``out/<stem>.tif``, recording it in their metadata
    (so a model trained on them learns it, and prediction does not apply it twice)."""
    from ..core.paths import writable_folder
    from ..core.preprocess import Recipe, preprocess, provenance

    recipe = Recipe.coerce(recipe)
    files = [f for path in inputs for f in list_images(path)]
    out = writable_folder(out, "preprocessed images")
    written = []
    for path in tqdm(files, unit="image", desc="preprocessing", disable=not progress):
        result = preprocess(read_picture(path), recipe, name=f"'{path}'")
        metadata = provenance(recipe, source=str(path))
        written.append(write_tiff(out / f"{path.stem}.tif", result, metadata=metadata))
    return written


def evaluate_files(
    predictions: str | os.PathLike,
    truth: str | os.PathLike,
    *,
    ignore: int | None = None,
    instance: bool = False,
) -> dict:
    """Score predicted label files against ground truth files (folders paired by stem)."""
    from ..core.evaluate.semantic import evaluate

    pairs = pair_by_stem(list_images(predictions), list_images(truth))
    return evaluate(
        [read_labels(p) for p, _ in pairs],
        [read_labels(t) for _, t in pairs],
        ignore=ignore,
        instance=instance,
        names=[p.stem for p, _ in pairs],
    )


def export_file(args):
    """``napari-segdl export``: the model (a file or a bundled name) as a BioImage Model Zoo
    package, its test tensors from ``--image`` when given."""
    from ..core.bundle import load_model
    from ..core.interop import export_bioimageio

    image = read_picture(args.image) if args.image else None
    return export_bioimageio(
        load_model(args.model),
        args.bioimageio,
        image=image,
        name=args.name,
        description=args.description,
        authors=args.author,
        license=args.license,
        cite=args.cite,
        overwrite=args.overwrite,
    )


def predict_zoo_files(model, inputs, out, *, allow_code: bool = False, progress: bool = True):
    """A Model Zoo package on image files: ``out/<stem>.tif`` labels when its output is class
    probabilities or a mask, and every output as ``out/<stem>_<output>.tif``."""
    from ..core.interop.zoo import labels_from_outputs, load_zoo_model, predict_zoo
    from ..core.paths import writable_folder

    package = load_zoo_model(model, allow_code=allow_code)  # its own tests reproduced first
    files = [f for path in inputs for f in list_images(path)]
    out = writable_folder(out, "predictions")
    report = FilesReport(inputs=len(files))
    for path in tqdm(files, unit="image", desc="predicting", disable=not progress):
        try:
            outputs = predict_zoo(package, read_picture(path), f"'{path}'")
        except SegDLError as error:
            report.failed[path.name] = str(error)
            tqdm.write(f"napari-segdl: error: {error} (skipped)", file=sys.stderr)
            continue
        stem = file_stem(path)
        report.written.append(
            write_tiff(out / f"{stem}.tif", labels_from_outputs(package, outputs))
        )
        for name, array in outputs.items():
            report.written.append(write_tiff(out / f"{stem}_{name}.tif", array))
    return report
