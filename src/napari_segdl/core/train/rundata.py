"""What went into a model: a run's images, labels and checked regions, kept with the run.

Before a run trains, its data are written compressed to ``data.npz`` in the run's folder
(``runs/<id>`` beside the run log), so neither a crash nor a later edit of the painted layers
loses the labels behind a model; the Runs dock reopens them as layers. Runs whose data exceed
a cap are not kept (the user is told); their data pass through a temporary file instead.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SegDLError
from ..paths import atomic_write, writable_folder

#: The file of a run's data in its folder.
DATA_FILE = "data.npz"
#: Data larger than this (MiB, uncompressed) are not kept with the run by default.
DEFAULT_CAP_MIB = 1024


@dataclass
class RunData:
    """The pairs a run trained on: ``names`` are (image, labels) names; ``regions`` the
    checked-region masks, or None."""

    images: list[np.ndarray]
    labels: list[np.ndarray]
    names: list[tuple[str, str]]
    regions: list[np.ndarray] | None = None

    @property
    def nbytes(self) -> int:
        arrays = [*self.images, *self.labels, *(self.regions or [])]
        return sum(np.asarray(a).nbytes for a in arrays)


def runs_folder(log_path: str | os.PathLike | None = None) -> Path:
    """``runs`` beside the run log (``$NAPARI_SEGDL_RUNS`` or the user data folder)."""
    from .runs import default_log_path

    return Path(log_path or default_log_path()).parent / "runs"


def run_folder(run_id: str, log_path=None) -> Path:
    """A new run's folder, created and checked writable (refused before any training)."""
    return writable_folder(
        runs_folder(log_path) / run_id,
        "the run's data and model",
        " (the run log's folder is set by $NAPARI_SEGDL_RUNS)",
    )


def save_run_data(data: RunData, folder: Path, cap_mib: float = DEFAULT_CAP_MIB) -> tuple:
    """Write ``data`` for a run: ``(path, kept)``. Within ``cap_mib`` MiB, compressed into
    ``folder`` (kept); beyond it, uncompressed into a temporary file that the caller removes
    after training (not kept)."""
    kept = data.nbytes <= cap_mib * 1024**2
    arrays = {"names": np.array(data.names, dtype=str).reshape(-1, 2)}
    for i, (image, labels) in enumerate(zip(data.images, data.labels, strict=True)):
        arrays[f"image_{i}"], arrays[f"labels_{i}"] = np.asarray(image), np.asarray(labels)
        if data.regions is not None:
            arrays[f"region_{i}"] = np.asarray(data.regions[i], dtype=bool)
    if not kept:
        handle, name = tempfile.mkstemp(suffix=".npz", prefix="segdl-run-data-")
        os.close(handle)
        np.savez(name, **arrays)
        return Path(name), False
    path = Path(folder) / DATA_FILE
    with atomic_write(path, "the run's data") as temp:
        np.savez_compressed(temp, **arrays)
    return path, True


def load_run_data(path: str | os.PathLike) -> RunData:
    """The data of a run, as :func:`save_run_data` wrote them."""
    path = Path(path)
    if not path.is_file():
        raise SegDLError(
            f"The run's data '{path}' do not exist (not kept: over the size cap, or removed)."
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = [tuple(pair) for pair in archive["names"].tolist()]
            count = len(names)
            images = [archive[f"image_{i}"] for i in range(count)]
            labels = [archive[f"labels_{i}"] for i in range(count)]
            has_regions = "region_0" in archive.files
            regions = [archive[f"region_{i}"] for i in range(count)] if has_regions else None
    except (OSError, ValueError, KeyError) as error:
        raise SegDLError(f"The run's data '{path}' cannot be read: {error}") from error
    return RunData(images, labels, names, regions)
