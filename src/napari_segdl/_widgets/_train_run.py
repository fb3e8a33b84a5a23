"""One run of the Train dock: its data kept first, training in the dock's worker process, its
end recorded — or, when the process dies, the best checkpoint offered to go on from."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from napari.qt.threading import thread_worker
from napari.utils.notifications import show_info

from ..core.errors import SegDLError
from ..core.paths import writable_folder
from ..core.train.rundata import RunData, run_folder, save_run_data
from ..core.worker import jobs
from ._common import SESSION_MODELS, Ended, outcome_of, report


@dataclass(frozen=True)
class DataKept:
    """Where the run's data went: ``kept`` in its folder, or (over the cap) a temporary file."""

    path: Path
    kept: bool
    mib: float
    cap_mib: float


@thread_worker
def training_worker(process, data: RunData, run, cap_mib: float, config, preview, **options):
    """Keep the run's data, then train in ``process`` (``options``: :func:`iter_training`'s
    keyword arguments but ``regions``, which travel with the data); an
    :class:`~._common.Ended` with the model."""
    try:
        path, kept = save_run_data(data, run.folder, cap_mib)
    except SegDLError as error:
        return Ended("refused", error=error)
    yield DataKept(path, kept, data.nbytes / 2**20, cap_mib)
    model_file = run.folder / "model.keras"
    try:
        ended = yield from outcome_of(
            process.call(jobs.train, path, config, options, preview, model_file)
        )
    finally:
        if not kept:
            path.unlink(missing_ok=True)
    if ended.how == "refused":  # bad input: reported by the dock; nothing trained to keep
        shutil.rmtree(run.folder, ignore_errors=True)
    return ended


class Run:
    """A run about to start: its id and folder (refused when they cannot be written, before
    anything trains), the layers it trains on, and what it has reached so far."""

    def __init__(self, pairs, config):
        self.id = uuid.uuid4().hex[:8]
        self.folder = run_folder(self.id)
        if config.checkpoint_dir:
            writable_folder(config.checkpoint_dir, "checkpoints", " (or none)")
        self.names = [(image.name, labels.name) for image, labels in pairs]
        self.data = [f"{image} + {labels}" for image, labels in self.names]
        self.arch, self.mode = config.arch, config.mode
        self.data_file: Path | None = None
        self.checkpoint: Path | None = None
        self.epoch = 0

    @property
    def preview_key(self) -> str:
        return f"{jobs.PREVIEW}-{self.id}"

    def saw(self, event) -> None:
        """Note the data file kept and the checkpoint and epoch reached."""
        if isinstance(event, DataKept):
            self.data_file = event.path if event.kept else None
            if not event.kept:
                show_info(
                    f"This run's data ({event.mib:.0f} MiB) are not kept with it: over the cap "
                    f"of {event.cap_mib:.0f} MiB (advanced settings ▸ keep run data up to)."
                )
        elif event.kind == "start" and event.model.info.run.checkpoint:
            self.checkpoint = Path(event.model.info.run.checkpoint)
        elif event.kind == "epoch":
            self.epoch = event.epoch

    def fields(self) -> dict:
        """What the run log keeps of the run besides its model's summary."""
        data = str(self.data_file) if self.data_file is not None else None
        return {"id": self.id, "folder": str(self.folder), "data_file": data}

    def trained(self, model) -> tuple[str, str | None]:
        """Offer the trained model to the docks and record the run: (its name, the run id, or
        None when the log cannot be written — said in a notification)."""
        from datetime import datetime

        from ..core.train.runs import record_run

        arch = {"unet": "U-Net", "segnet": "SegNet"}.get(model.info.arch, model.info.arch)
        name = SESSION_MODELS.add(
            f"{arch} on {self.names[0][0]} ({datetime.now():%H:%M:%S})", model
        )
        try:  # the Runs dock lists it
            return name, record_run(model, self.data, model.path, **self.fields())["id"]
        except SegDLError as error:
            report(error)
            return name, None

    def died(self, error) -> tuple[str, str | None]:
        """The worker process died during the run: one line that says what happened and what
        to do, and the session name of the run's best checkpoint to start from (or None)."""
        from ..core.bundle import SegModel
        from ..core.train.runs import RunLog, record_run

        where = f"after epoch {self.epoch}" if self.epoch else "before the first epoch ended"
        if self.checkpoint is not None and self.checkpoint.is_file():
            model = SegModel.from_file(self.checkpoint)
            best = model.info.run.best_epoch
            name = SESSION_MODELS.add(f"checkpoint of run {self.id} (epoch {best})", model)
            offer = f"its best checkpoint (epoch {best}) is chosen as 'start from'"
            try:
                record_run(model, self.data, **self.fields())
            except SegDLError as problem:
                report(problem)
        else:
            name, offer = None, "no checkpoint was written yet"
            from datetime import datetime, timezone

            RunLog().record(
                {
                    **self.fields(),
                    "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "arch": self.arch,
                    "mode": self.mode,
                    "data": self.data,
                    "ended": "worker process died",
                }
            )
        line = f"{error} {where}; your layers are untouched and {offer}. Press Train to go on."
        return line, name
