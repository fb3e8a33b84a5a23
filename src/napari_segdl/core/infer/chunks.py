"""Dask building blocks of chunked prediction: lazy arrays, chunks on the pooling grid with
their neighbours' margin, exact percentiles from per-chunk histograms, models that travel to
cluster workers, and the connection to a ``dask.distributed`` scheduler."""

from __future__ import annotations

import numpy as np

from ..bundle import SegModel, unpacked
from ..errors import SegDLError

#: Float images up to this size (as float32) get exact normalisation percentiles.
EXACT_BYTES = 512 * 1024**2


def is_lazy(image) -> bool:
    """True for dask arrays, zarr arrays and memory-mapped files: predicted chunk by chunk."""
    if isinstance(image, np.memmap):
        return True
    module = type(image).__module__
    return module.startswith(("dask.", "zarr."))


def as_dask(image):
    """A dask array of ``image`` (zarr and memory maps are read chunk by chunk)."""
    import dask.array as da

    if isinstance(image, da.Array):
        return image
    if type(image).__module__.startswith("zarr."):
        return da.from_zarr(image)
    return da.from_array(image, chunks="auto")


class ModelRef:
    """A model that travels to cluster workers as its bundle's bytes (a worker may run on
    another machine, where a path means nothing) with its engine. Each process keeps the bytes
    as one file (:func:`~..bundle.unpacked`, removed at exit) and reads the network once (the
    bundle's bounded cache of networks): the one way models move, as for worker processes."""

    def __init__(self, model: SegModel):
        self._model = model
        self._state = None

    def __getstate__(self) -> dict:
        if self._state is None:  # serialised once; a worker passes the same bytes on
            self._state = {"data": self._model.bundle_bytes(), "engine": self._model.engine}
        return self._state

    def __setstate__(self, state: dict) -> None:
        self._model = None
        self._state = state

    def get(self) -> SegModel:
        from .runners import with_engine

        if self._model is None:
            model = SegModel.from_file(unpacked(self._state["data"]))
            self._model = with_engine(model, self._state.get("engine", "keras"))
        return self._model


def exact_limits(image, low: float, high: float) -> np.ndarray:
    """Percentiles ``low`` and ``high`` of each channel of a (Y, X, C) (or (Z, Y, X, C)) dask
    array: (2, C).

    Integer images of up to 16 bits: exact (equal to ``numpy.percentile``), from histograms
    summed over the chunks. Other images: exact when they fit in :data:`EXACT_BYTES`, else
    dask's chunk-merged estimate.
    """
    import dask
    import dask.array as da

    dtype = np.dtype(image.dtype)
    if dtype.kind not in "ui" or dtype.itemsize > 2:
        if image.size * 4 <= EXACT_BYTES:
            data = np.asarray(image, dtype=np.float32)
            return np.percentile(data, [low, high], axis=tuple(range(data.ndim - 1)))
        flat = image.reshape(-1, image.shape[-1])
        return np.stack(
            [
                da.percentile(flat[:, c].astype(np.float64), [low, high]).compute()
                for c in range(image.shape[-1])
            ],
            axis=1,
        )
    offset = int(np.iinfo(dtype).min)
    bins = int(np.iinfo(dtype).max) - offset + 1

    def histogram(block):
        values = np.asarray(block, dtype=np.int64).reshape(-1, block.shape[-1]) - offset
        return np.stack(
            [np.bincount(values[:, c], minlength=bins) for c in range(values.shape[1])]
        )

    parts = [dask.delayed(histogram)(block) for block in image.to_delayed().ravel()]
    counts = sum(dask.compute(*parts))
    return np.stack([_percentiles(c, offset, (low, high)) for c in counts], axis=1)


def _percentiles(counts: np.ndarray, offset: int, qs) -> np.ndarray:
    """``numpy.percentile`` (linear interpolation) of the values a histogram counts."""
    cumulative = np.cumsum(counts)
    total = int(cumulative[-1])

    def order_statistic(rank: int) -> float:
        return float(np.searchsorted(cumulative, rank, side="right") + offset)

    result = []
    for q in qs:
        position = q / 100 * (total - 1)
        below = int(np.floor(position))
        low = order_statistic(below)
        high = order_statistic(min(below + 1, total - 1))
        result.append(low + (position - below) * (high - low))
    return np.array(result)


def grid_chunks(length: int, chunk: int, margin: int) -> tuple[int, ...]:
    """Chunks of ``chunk`` pixels (on the pooling grid); a last piece under ``margin`` joins
    the one before, since neighbours lend each chunk ``margin`` pixels."""
    count, rest = divmod(length, chunk)
    sizes = [chunk] * count
    if rest and sizes and rest < margin:
        sizes[-1] += rest
    elif rest:
        sizes.append(rest)
    return tuple(sizes)


def overlap_yx(x, leading: int, dy: int, dx: int, boundary: str = "reflect"):
    """``x`` with every chunk extended by (dy, dx) pixels of its neighbours through
    ``dask.array.overlap``; the leading and channel axes untouched.

    At the image border the chunks are extended by mirrored pixels (``"reflect"``), or not at
    all (``"none"``: a border chunk is then ``dy``/``dx`` shorter on its outer side).
    """
    import dask.array as da

    depth = {**{i: 0 for i in range(leading)}, leading: dy, leading + 1: dx, leading + 2: 0}
    edges = {i: "none" for i in range(leading + 3)}
    edges.update({leading: boundary if dy else "none", leading + 1: boundary if dx else "none"})
    return da.overlap.overlap(x, depth=depth, boundary=edges)


def inner_slices(block_info: dict, leading: int, dy: int, dx: int) -> tuple[slice, slice]:
    """Rows and columns of a block from :func:`overlap_yx` (``boundary="none"``) that are its
    own chunk: the neighbours' margins cut off, where it has neighbours."""
    where, counts = block_info["chunk-location"], block_info["num-chunks"]
    cuts = []
    for axis, margin in ((leading, dy), (leading + 1, dx)):
        before = margin if where[axis] > 0 else 0
        after = margin if where[axis] < counts[axis] - 1 else 0
        cuts.append((before, after))
    (top, bottom), (left, right) = cuts
    return slice(top, -bottom or None), slice(left, -right or None)


def compute_on(scheduler: str, result) -> np.ndarray:
    """Compute ``result`` on the ``dask.distributed`` cluster at ``scheduler``; numpy back."""
    with connect(scheduler) as client:
        return np.asarray(client.compute(result).result())


def connect(scheduler: str):
    """A ``distributed.Client`` of the scheduler at ``scheduler``, or a clear error."""
    try:
        from distributed import Client
    except ImportError as error:
        raise SegDLError(
            "A Dask scheduler needs the 'distributed' package: pip install 'dask[distributed]'."
        ) from error
    try:
        return Client(scheduler, timeout="5s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise SegDLError(
            f"Cannot reach the Dask scheduler at '{scheduler}' ({error}). Start one "
            "(`dask scheduler`, then `dask worker <address>` on each machine) or check the "
            "address, e.g. tcp://host:8786."
        ) from error
