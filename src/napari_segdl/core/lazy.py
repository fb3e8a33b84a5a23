"""Prediction of images larger than memory: dask chunks with a receptive margin, on any scheduler.

The image (dask, zarr or a memory-mapped file) is cut into chunks on the network's pooling
grid; every chunk is extended by the receptive margin with ``dask.array.overlap`` and predicted,
and the margin is cut off again, so the result equals in-memory prediction away from the image
border while only a few chunks are in memory at once. Normalisation needs the percentiles of the
whole image: for integer images they are computed exactly from per-chunk histograms.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from pathlib import Path

import numpy as np

from .bundle import SegModel, load_model
from .errors import SegDLError
from .stacks import has_channels
from .tiling import MAX_CHUNK_MEMORY, auto_tile, receptive_margin

#: One network call at a time per process: the backend uses every core for one call already,
#: and memory then holds one chunk's activations, not one per thread.
_NETWORK_LOCK = threading.Lock()
#: Float images up to this size (as float32) get exact normalisation percentiles.
EXACT_BYTES = 512 * 1024**2
#: Models rebuilt from bundle bytes in this process (workers of a cluster), by content hash.
_LOADED: dict[str, SegModel] = {}


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
    """A model that travels to cluster workers as its bundle bytes and loads once per process."""

    def __init__(self, model: SegModel):
        self._model = model
        self._state = None

    def __getstate__(self) -> dict:
        if self._state is None:  # serialised once; a worker passes the same bytes on
            with tempfile.TemporaryDirectory() as folder:
                data = Path(self._model.save(Path(folder) / "model.keras")).read_bytes()
            self._state = {"data": data, "key": hashlib.sha256(data).hexdigest()}
        return self._state

    def __setstate__(self, state: dict) -> None:
        self._model = None
        self._state = state

    def get(self) -> SegModel:
        if self._model is None:
            key = self._state["key"]
            if key not in _LOADED:
                with tempfile.TemporaryDirectory() as folder:
                    path = Path(folder) / "model.keras"
                    path.write_bytes(self._state["data"])
                    _LOADED[key] = load_model(path)
            self._model = _LOADED[key]
        return self._model


def exact_limits(image, low: float, high: float) -> np.ndarray:
    """Percentiles ``low`` and ``high`` of each channel of a (Y, X, C) dask array: (2, C).

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
            return np.percentile(data, [low, high], axis=(0, 1))
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


def _prepared(model: SegModel, image, name: str, preprocess: bool):
    """The image as a dask array (..., Y, X, C) after the model's recipe; its raw (Y, X)."""
    from .predict import check_channels
    from .preprocess import Recipe
    from .preprocess import preprocess as apply_recipe

    x = as_dask(image)
    colour = has_channels(x.shape, model.info.channels)
    raw_yx = tuple(x.shape[-3:-1]) if colour else tuple(x.shape[-2:])
    recipe = Recipe.coerce(model.info.recipe) if preprocess else Recipe()
    if recipe:
        x = apply_recipe(x, recipe, channels=colour, name=name)
    if not colour:
        x = x[..., np.newaxis]
    check_channels(model, x, name)
    if min(x.shape[-3:-1]) < 1:
        raise SegDLError(f"{name}: the image is empty (shape {image.shape}).")
    return x, raw_yx


def predict_lazy(
    model: SegModel,
    image,
    *,
    tile: int | None = None,
    probabilities: bool = False,
    threshold: float | None = None,
    tta: bool = False,
    name: str = "image",
    preprocess: bool = True,
    scheduler: str | None = None,
):
    """Predict a dask/zarr/memory-mapped image chunk by chunk; returns a lazy dask array.

    Chunks are ``tile`` pixels on a side (by default from the free memory), extended by the
    network's receptive margin (``dask.array.overlap``), so chunk borders leave no trace.
    Instance models get IDs that are consistent across chunks (see :mod:`.stitch`). With a
    ``scheduler`` address the work runs on that ``dask.distributed`` cluster and the result
    is returned as numpy.
    """
    from .predict import labels_from_probabilities, predict_probabilities

    x, raw_yx = _prepared(model, image, name, preprocess)
    depth = int(model.info.arch_params["depth"])
    grid, margin = 2**depth, receptive_margin(depth)
    filters = int(model.info.arch_params.get("filters", 32))
    side = tile or auto_tile(filters, depth, largest=MAX_CHUNK_MEMORY)[0]
    chunk = max(grid, (side - 2 * margin) // grid * grid)
    leading = x.ndim - 3
    x = x.rechunk(
        (
            *((1,) * n for n in x.shape[:leading]),
            grid_chunks(x.shape[leading], chunk, margin),
            grid_chunks(x.shape[leading + 1], chunk, margin),
            (x.shape[-1],),
        )
    )
    limits = _slice_limits(model, x)
    # one chunk along an axis needs no neighbours: the network pads it
    dy, dx = (margin if x.numblocks[axis] > 1 else 0 for axis in (leading, leading + 1))
    extended = overlap_yx(x, leading, dy, dx)
    ref = ModelRef(model)
    num_classes = model.keras_model.output_shape[-1]
    instance = model.class_map.mode == "instance"
    keep_scores = probabilities or instance

    def block(data, block_info=None):
        where = block_info[0]["chunk-location"][:leading]
        net = ref.get()
        results = []
        for index in np.ndindex(*data.shape[:leading]):
            scores = _predict_locked(
                predict_probabilities, net, data[index], limits[tuple(where)], tta
            )
            scores = scores[dy : scores.shape[0] - dy, dx : scores.shape[1] - dx]
            results.append(
                scores if keep_scores else labels_from_probabilities(net, scores, threshold)
            )
        return np.stack(results).reshape(*data.shape[:leading], *results[0].shape)

    if keep_scores:
        result = extended.map_blocks(
            block, dtype=np.float32, chunks=(*x.chunks[:-1], (num_classes,))
        )
    else:
        result = extended.map_blocks(
            block, dtype=model.class_map.dtype, chunks=x.chunks[:-1], drop_axis=x.ndim - 1
        )
    if instance and not probabilities:
        from .stitch import stitch_instances

        min_size = int(model.info.training.get("instance_min_size", 4))
        result = stitch_instances(result, min_size, model.class_map.dtype, scheduler)
    if tuple(result.shape[leading : leading + 2]) != tuple(raw_yx):
        result = _restore_lazy(result, raw_yx, labels=not probabilities, leading=leading)
    if scheduler is not None:
        return compute_on(scheduler, result)
    return result


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


def overlap_yx(x, leading: int, dy: int, dx: int):
    """``x`` with every chunk extended by (dy, dx) pixels of its neighbours (mirrored at the
    image border), through ``dask.array.overlap``; the leading and channel axes untouched."""
    import dask.array as da

    depth = {**{i: 0 for i in range(leading)}, leading: dy, leading + 1: dx, leading + 2: 0}
    boundary = {i: "none" for i in range(leading + 3)}
    boundary.update(
        {leading: "reflect" if dy else "none", leading + 1: "reflect" if dx else "none"}
    )
    return da.overlap.overlap(x, depth=depth, boundary=boundary)


def _predict_locked(predict_probabilities, model, data, limits, tta):
    with _NETWORK_LOCK:
        return predict_probabilities(model, data, None, limits=(limits[0], limits[1]), tta=tta)


def _slice_limits(model: SegModel, x) -> np.ndarray:
    """Normalisation limits of every 2D slice: (..., 2, C), computed in one pass."""
    norm = model.normalization
    leading = x.shape[:-3]
    limits = np.zeros((*leading, 2, x.shape[-1]))
    for index in np.ndindex(*leading):
        limits[index] = exact_limits(x[index], norm.low, norm.high)
    return limits


def _restore_lazy(result, raw_yx, *, labels: bool, leading: int):
    """Map a result made on a resized image back to the raw (Y, X), one slice per task."""
    from .preprocess import restore

    whole = result.rechunk({leading: -1, leading + 1: -1})

    def back(block):
        out = [
            restore(block[i], raw_yx, labels=labels) for i in np.ndindex(*block.shape[:leading])
        ]
        return np.stack(out).reshape(*block.shape[:leading], *out[0].shape)

    chunks = (*whole.chunks[:leading], (raw_yx[0],), (raw_yx[1],), *whole.chunks[leading + 2 :])
    return whole.map_blocks(back, chunks=chunks, dtype=result.dtype)


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
