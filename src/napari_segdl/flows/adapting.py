"""Adapting a model to corrected label files (``napari-segdl train --adapt-only``)."""

from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import SegDLError
from ..io.files import list_images, pair_by_stem, read_labels, read_picture


def adapt_files(
    model: str | os.PathLike | None,
    images: str | os.PathLike,
    labels: str | os.PathLike,
    out: str | os.PathLike,
    *,
    colour_labels: bool = False,
) -> Path:
    """Fit the instance ``model``'s post-processing levels and scale to the corrected label
    files (or folders paired by stem), without training; save the adapted model to ``out``."""
    from ..core.bundle import load_model
    from ..core.train.adapt import adapt

    if not model:
        raise SegDLError("--adapt-only adapts the model given with --from-model; name one.")
    if Path(out).suffix != ".keras":
        raise SegDLError(f"--out must name a .keras file; received '{out}'.")
    pairs = pair_by_stem(list_images(images), list_images(labels))
    adapted = adapt(
        load_model(model),
        [read_picture(i) for i, _ in pairs],
        [read_labels(lab, colours=colour_labels) for _, lab in pairs],
        sources=[(f"image '{i}'", f"labels '{lab}'") for i, lab in pairs],
    )
    return adapted.save(out)
