"""What the dock widgets share: layer data access, the session's models, error reporting."""

from __future__ import annotations

from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from magicgui.widgets import ComboBox
from napari.utils.notifications import show_error
from psygnal import Signal

from ..core.bundle import SegModel
from ..core.errors import SegDLError
from ..core.worker.jobs import CANCELLED
from ..core.worker.process import ChildDied


def image_data(layer) -> np.ndarray:
    """A copy of an image layer's data: (Y, X), (Y, X, C) for RGB(A), or a stack (..., Y, X[, C])."""
    if layer is None:
        raise SegDLError("Choose an image layer (File ▸ Open Sample ▸ SegDL for an example).")
    if getattr(layer, "multiscale", False):
        raise SegDLError(f"Image layer '{layer.name}' is multiscale; choose a single-scale image.")
    return np.array(layer.data)


def labels_data(layer) -> np.ndarray:
    """A copy of a labels layer's data (training never changes the user's layer)."""
    if layer is None:
        raise SegDLError("Choose a labels layer with painted labels.")
    if getattr(layer, "multiscale", False):
        raise SegDLError(f"Labels layer '{layer.name}' is multiscale; choose a single-scale one.")
    return np.array(layer.data)


#: Where the channels of an image layer are: colour last (RGB) or none, or a numbered axis.
CHANNEL_AXES = [("last (RGB) or none", "auto"), ("0", "0"), ("1", "1"), ("2", "2")]


def channel_axis_combo(verb: str) -> ComboBox:
    """The channel-axis choice of a dock whose stacks are ``verb`` ("trained") slice by slice."""
    return ComboBox(
        name="channel_axis",
        label="channel axis",
        choices=CHANNEL_AXES,
        tooltip="Where the channels of a multichannel image layer are; Z/T stacks are "
        f"{verb} slice by slice.",
    )


def channel_axis(choice: str) -> int | None:
    """The channel axis for the core functions from a :data:`CHANNEL_AXES` choice."""
    return None if choice == "auto" else int(choice)


def displayed_slice(viewer, layer) -> np.ndarray:
    """A copy of the 2D slice of ``layer`` on screen, (Y, X) or (Y, X, C) for RGB(A)."""
    leading = layer.ndim - 2  # layer.ndim does not count the colour axis of RGB layers
    if leading <= 0:
        return np.array(layer.data)
    coords = layer.world_to_data(viewer.dims.point[-layer.ndim :])
    index = tuple(
        int(np.clip(round(c), 0, n - 1))
        for c, n in zip(coords[:leading], layer.data.shape[:leading], strict=True)
    )
    return np.array(layer.data[index])


#: Persistent Python threads for the Keras work that stays in the viewer's process (lazy
#: layers, whose results compute as they are viewed; Model Zoo packages). TensorFlow crashes
#: when a tf.function traced in one QThreadPool thread is retraced in another after the first
#: has ended, so napari's workers relay to these threads instead.
_KERAS_THREADS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="segdl-keras")


@dataclass(frozen=True)
class Ended:
    """How a dock's job ended: the one result type of every worker job.

    ``how`` is "completed" (``value``: what the job made), "cancelled", "refused" (bad input:
    ``error`` is the :class:`SegDLError` saying what to change) or "died" (the worker process
    ended: ``error`` is its :class:`ChildDied`). Returned as a value, because superqt re-raises
    errors a worker raises; :meth:`Dock.run <._dock.Dock.run>` routes each to its place.
    """

    how: str
    value: Any = None
    error: Exception | None = None


def _ended(value) -> Ended:
    cancelled = isinstance(value, str) and value == CANCELLED
    return Ended("cancelled") if cancelled else Ended("completed", value)


def outcome(function: Callable, *args, **kwargs) -> Ended:
    """``function(*args, **kwargs)`` as an :class:`Ended` (call it in a napari worker)."""
    try:
        return _ended(function(*args, **kwargs))
    except ChildDied as error:
        return Ended("died", error=error)
    except SegDLError as error:
        return Ended("refused", error=error)


def outcome_of(job: Generator):
    """``yield from`` a job's generator (its events pass through); returns its :class:`Ended`."""
    try:
        return _ended((yield from job))
    except ChildDied as error:
        return Ended("died", error=error)
    except SegDLError as error:
        return Ended("refused", error=error)


def keras_result(function: Callable, *args, **kwargs):
    """Run ``function`` on a Keras thread (call from a napari worker) and return its value;
    its errors are raised here."""
    return _KERAS_THREADS.submit(function, *args, **kwargs).result()


def report(error: SegDLError | str) -> None:
    """Show bad input (or a line that says what happened) as a napari notification: the
    message says what to change.

    Other failures take napari's own error path, with their traceback.
    """
    show_error(str(error))


class ModelRegistry:
    """Models trained or loaded in this napari session, by display name, after the bundled
    models ("Nuclei (bundled)"), which load on first use: :meth:`get` gives their name to load
    in a worker process until :meth:`keep` keeps the loaded model. Models here are
    file-backed (their network is read where they run, not in the viewer)."""

    changed = Signal()
    #: The name of a model just added (trained or loaded): docks choose it.
    added = Signal(str)

    def __init__(self):
        self._models: dict[str, SegModel | str] = {}

    def add(self, name: str, model: SegModel) -> str:
        """Register ``model`` under a unique name derived from ``name``; returns that name."""
        unique, count = name, 1
        while unique in self._models:
            count += 1
            unique = f"{name} ({count})"
        self._models[unique] = model
        self.changed.emit()
        self.added.emit(unique)
        return unique

    def names(self) -> list[str]:
        return [*(n for n in self._bundled() if n not in self._models), *self._models]

    def get(self, name: str) -> SegModel | str:
        """The model shown as ``name``, or the bundled model's name when not loaded yet."""
        return self._models[name] if name in self._models else self._bundled()[name]

    def keep(self, name: str, model: SegModel) -> None:
        """Keep a bundled model once loaded, under the name it is shown with."""
        self._models[name] = model

    @staticmethod
    def _bundled() -> dict[str, str]:
        from ..core.models.bundled import BUNDLED

        return {entry.title: entry.name for entry in BUNDLED.entries.values()}


#: The one registry shared by the Train and Predict docks of this Python session.
SESSION_MODELS = ModelRegistry()


def layer_recipe(layer) -> dict | None:
    """The preprocessing recipe that made ``layer`` (the Preprocess dock records it), or None."""
    from ..core.preprocess import recipe_of

    return recipe_of(getattr(layer, "metadata", None))


def table_value(rows: list[list], columns) -> dict:
    """A magicgui ``Table`` value from rows (the "split" form needs the index too)."""
    return {"data": rows, "index": list(range(len(rows))), "columns": list(columns)}
