"""The run log: every training run, with its parameters, data, duration, scores and bundle path.

One JSON object per line in ``runs.jsonl`` under the user data folder (or ``$NAPARI_SEGDL_RUNS``),
written by the Train dock and ``napari-segdl train``, read by the Runs table and ``runs()``.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

from ..errors import SegDLError
from ..paths import atomic_write

RUNS_ENV = "NAPARI_SEGDL_RUNS"


def default_log_path() -> Path:
    """``$NAPARI_SEGDL_RUNS``, or ``runs.jsonl`` in the platform's user data folder."""
    if os.environ.get(RUNS_ENV):
        return Path(os.environ[RUNS_ENV])
    from platformdirs import user_data_path

    return user_data_path("napari-segdl", appauthor=False) / "runs.jsonl"


def summarize_run(model, data: list[str], bundle: str | None = None) -> dict:
    """The log entry of a trained model: what it learned from, how, for how long, how well."""
    info = model.info
    history = info.history or {}
    val_iou = [v for v in history.get("val_iou", []) if v is not None]
    training = dict(info.training)
    return {
        "id": uuid.uuid4().hex[:8],
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "arch": info.arch,
        "mode": info.classes.get("mode"),
        "data": list(data),
        "params": {k: training[k] for k in sorted(training) if k not in _OUTCOME},
        "seconds": info.run.seconds,
        "epochs_run": info.run.epochs_run,
        "ended": info.run.ended,
        "kept_start": info.run.kept_start,
        "beat_start": info.run.beat_start,
        "best_val_iou": max(val_iou) if val_iou else history.get("start", {}).get("val_iou"),
        "final_loss": history["loss"][-1] if history.get("loss") else None,
        "recipe": bool(info.recipe),
        "bundle": bundle,
    }


_OUTCOME = {"epochs_run", "best_epoch", "ended", "seconds", "kept_start", "beat_start"}


class RunLog:
    """Append-only log of runs in a JSON-lines file (updates rewrite it atomically)."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else default_log_path()

    def runs(self) -> list[dict]:
        """All runs, oldest first; unreadable lines (a crash mid-write) are skipped."""
        if not self.path.is_file():
            return []
        runs = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                runs.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return runs

    def record(self, entry: dict) -> dict:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as file:
                file.write(json.dumps(entry) + "\n")
        except OSError as error:
            raise SegDLError(
                f"Cannot record the run in '{self.path}': {error.strerror}."
            ) from error
        return entry

    def ranked(self, key: str = "best_val_iou") -> list[dict]:
        """All runs, the best first by ``key`` (runs without a score last, newest first)."""
        runs = list(reversed(self.runs()))
        return sorted(runs, key=lambda run: -(run.get(key) if run.get(key) is not None else -1))

    def set_bundle(self, run_id: str, bundle: str | os.PathLike) -> None:
        """Note where a run's model was saved."""
        runs = self.runs()
        for run in runs:
            if run["id"] == run_id:
                run["bundle"] = str(bundle)
        with atomic_write(self.path, "the run log") as temp:
            temp.write_text("".join(json.dumps(run) + "\n" for run in runs), encoding="utf-8")


def record_run(
    model,
    data: list[str],
    bundle: str | os.PathLike | None = None,
    log: RunLog | None = None,
    **fields,
) -> dict:
    """Add a trained model's run to the run log (the Runs dock, ``napari-segdl runs``).

    ``data`` names what it trained on (files, or layers); ``bundle`` where it was saved;
    ``fields`` are added to the entry (the dock's ``id``, ``data_file`` of the data kept).
    Returns the entry, with its ``id`` for :meth:`RunLog.set_bundle` when it is saved later.
    """
    entry = summarize_run(model, data, str(bundle) if bundle is not None else None)
    return (log or RunLog()).record({**entry, **fields})
