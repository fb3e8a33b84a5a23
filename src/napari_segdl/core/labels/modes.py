"""Label modes: painted label values <-> class indices for training targets and predictions.

Modes (docs/contracts.md, "Label modes"):

* ``dense``: every pixel is labelled; value 0 is the background class.
* ``sparse``: 0 is unlabelled and ignored; values 1..K are classes.
* ``instance``: one ID per object, 0 background; learned as background / object / boundary
  (:mod:`.instances`), predicted as IDs 1..N.

Predictions use the same label values as the training labels (255 stays 255).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import SegDLError

LABEL_MODES = ("dense", "sparse", "instance")

#: Target value of pixels that the loss and the metrics ignore.
IGNORE = -1


def check_mode(mode: str) -> str:
    if mode not in LABEL_MODES:
        raise SegDLError(f"Unknown label mode {mode!r}; choose one of {', '.join(LABEL_MODES)}.")
    return mode


def as_label_array(labels, name: str = "labels", ndim: int = 2) -> np.ndarray:
    """Validate a 2D label image (or a (Z, Y, X) label volume for ``ndim`` 3): integer (or
    integral float) values >= 0."""
    array = np.asarray(labels)
    if array.ndim != ndim:
        axes = "(Z, Y, X)" if ndim == 3 else "(Y, X)"
        raise SegDLError(f"{name}: labels must be {ndim}D {axes}; received shape {array.shape}.")
    if array.dtype == bool:
        return array.astype(np.uint8)
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all() or not np.array_equal(array, np.round(array)):
            raise SegDLError(f"{name}: label values must be whole numbers; use a Labels layer.")
        array = array.astype(np.int64)
    elif not np.issubdtype(array.dtype, np.integer):
        raise SegDLError(f"{name}: pixel type {array.dtype} is not a label type (integers).")
    if array.size and array.min() < 0:
        raise SegDLError(f"{name}: label values must be >= 0; found {array.min()}.")
    return array


@dataclass(frozen=True)
class ClassMap:
    """The classes a model predicts: the label value and name of each class index."""

    mode: str
    values: tuple[int, ...]
    names: tuple[str, ...]
    dtype: str = "uint8"

    @property
    def num_classes(self) -> int:
        return len(self.values)

    @classmethod
    def from_labels(
        cls, labels: Sequence[np.ndarray], mode: str, names: Sequence[str] | None = None
    ) -> ClassMap:
        """Find the classes painted in ``labels`` (already validated arrays).

        Raises
        ------
        SegDLError
            When fewer than two classes are painted.
        """
        check_mode(mode)
        if mode == "instance":  # the classes are fixed; the IDs are checked by encode()
            from .instances import CLASS_NAMES

            dtype = np.result_type(*[lab.dtype for lab in labels])
            return cls(mode, (0, 1, 2), CLASS_NAMES, np.dtype(dtype).name)
        found = np.unique(np.concatenate([np.unique(lab) for lab in labels]))
        if mode == "sparse":
            found = found[found != 0]
            if found.size < 2:
                painted = f"only value {found[0]} is" if found.size else "nothing is"
                raise SegDLError(
                    f"Sparse mode needs at least two painted classes, but {painted} painted. "
                    "Paint the background with its own label value (for example 1) and each "
                    "class with another; 0 stays unlabelled."
                )
        elif found.size < 2:
            raise SegDLError(
                f"Dense labels are all one value ({found[0]}): paint at least two classes "
                "(0 is background), or use sparse mode for scribbles."
            )
        values = tuple(int(v) for v in found)
        if names is None:
            names = tuple("background" if v == 0 else f"class {v}" for v in values)
        elif len(names) != len(values):
            raise SegDLError(f"{len(names)} class names given for {len(values)} classes {values}.")
        dtype = np.result_type(*[lab.dtype for lab in labels])
        dtype = np.min_scalar_type(max(values)) if dtype.kind == "i" else dtype
        return cls(mode=mode, values=values, names=tuple(names), dtype=np.dtype(dtype).name)

    def encode(self, labels: np.ndarray, name: str = "labels") -> np.ndarray:
        """Label values -> int32 class indices, with ``IGNORE`` for unlabelled pixels.

        Instance IDs become background / object / boundary classes.
        """
        if self.mode == "instance":
            from .instances import check_instance_labels, instance_targets

            check_instance_labels(labels, name)
            return instance_targets(labels)
        table = np.asarray(self.values)
        unknown = np.setdiff1d(np.unique(labels), table)
        if self.mode == "sparse":
            unknown = unknown[unknown != 0]
        if unknown.size:
            raise SegDLError(
                f"{name}: label values {unknown.tolist()} are not classes of this model "
                f"{list(self.values)}."
            )
        index = np.searchsorted(table, labels).astype(np.int32)
        if self.mode == "sparse":
            index[labels == 0] = IGNORE
        return index

    def decode(self, index: np.ndarray) -> np.ndarray:
        """Class indices -> label values in the training labels' dtype (not for instances,
        which :func:`~.instance_mode.instances_from_probabilities` makes from scores)."""
        return np.asarray(self.values, dtype=self.dtype)[index]

    def to_dict(self) -> dict:
        return {
            "mode": self.mode,
            "values": list(self.values),
            "names": list(self.names),
            "dtype": self.dtype,
        }

    @classmethod
    def from_dict(cls, spec: dict) -> ClassMap:
        return cls(
            mode=check_mode(spec["mode"]),
            values=tuple(int(v) for v in spec["values"]),
            names=tuple(spec["names"]),
            dtype=spec.get("dtype", "uint8"),
        )
