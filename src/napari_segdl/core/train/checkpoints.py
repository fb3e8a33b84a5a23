"""Crash-safe training: the best model so far, written atomically after every better epoch.

A crash, a closed viewer or a killed process loses at most the epochs since the last
improvement; ``train(..., initial=load_model(checkpoint))`` resumes from the file.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from ..paths import writable_folder


def default_checkpoint_dir() -> Path:
    """``checkpoints`` beside the run log, in the platform's user data folder."""
    from .runs import default_log_path

    return default_log_path().parent / "checkpoints"


def checkpoint_path(folder: str | os.PathLike) -> Path:
    """A new checkpoint file in ``folder``, after checking the folder can be written."""
    folder = writable_folder(folder, "checkpoints", " (or none)")
    return folder / f"checkpoint-{datetime.now():%Y%m%d-%H%M%S-%f}.keras"


def save_checkpoint(model, path: Path, history: dict, epoch: int) -> None:
    """Write ``model`` (holding its best weights, reached at ``epoch``) to ``path`` atomically."""
    model.info.history = {  # a copy: the run goes on adding to its lists
        key: list(values) if isinstance(values, list) else dict(values)
        for key, values in history.items()
    }
    model.info.training.update(epochs_run=epoch, best_epoch=epoch, ended="checkpoint")
    model.save(path)
