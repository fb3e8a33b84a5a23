"""Instance mode's heads: what a network learns beside the background / object / boundary
classes, and the targets of each.

* ``boundary``: the classes alone; objects grow from connected interiors.
* ``distance``: one more channel, each object's distance to its border; objects grow from its
  peaks.
* ``flow``: two more channels, the flow (dy, dx) towards each object's centre
  (:mod:`.flows`, cellpose's idea); pixels follow it and group where they end, so touching
  and non-convex objects separate (measured best: docs/benchmarks.md, "Instance
  representations at equal steps").

The extra target channels travel as the last channels of the training images, so that
cropping and augmentation move them with the pixels; the flow's two are vectors, turned and
mirrored with the image.
"""

from __future__ import annotations

import numpy as np

from ..errors import SegDLError

HEADS = ("boundary", "distance", "flow")
#: The default: the flow head in 2D (measured best: docs/benchmarks.md), the boundary classes in
#: 3D, where flows are not learnt.
AUTO = "auto"
#: The names of the output (and target) channels each head adds after the classes.
HEAD_CHANNELS = {"boundary": [], "distance": ["distance"], "flow": ["flow_y", "flow_x"]}
EXTRA_CHANNELS = {head: len(names) for head, names in HEAD_CHANNELS.items()}


def head_of(arch_params: dict) -> str:
    """The head of a network from its recorded parameters."""
    if arch_params.get("flow_head"):
        return "flow"
    return "distance" if arch_params.get("distance_head") else "boundary"


def head_params(head: str, dims: int = 2) -> dict:
    """The network parameters that build ``head`` (``"auto"``: the flow head in 2D, the
    boundary classes in 3D); the flow head is refused in 3D."""
    if head == AUTO:
        head = "flow" if dims == 2 else "boundary"
    if head not in HEADS:
        raise SegDLError(
            f"Unknown instance head {head!r}; choose one of {', '.join((AUTO, *HEADS))}."
        )
    if head == "flow" and dims == 3:
        raise SegDLError(
            "The flow head learns 2D flows; for a 3D network choose the boundary or distance "
            "head, or train a 2D network and link its slices."
        )
    return {"distance": {"distance_head": True}, "flow": {"flow_head": True}}.get(head, {})


def head_targets(labels: np.ndarray, head: str) -> np.ndarray | None:
    """The extra target channels (..., k) float32 of ``head`` for instance ``labels``; None for
    the boundary head."""
    if head == "distance":
        from .instances import distance_targets

        return distance_targets(labels)[..., None]
    if head == "flow":
        from .flows import object_flows

        return object_flows(labels)
    return None


def turn_vectors(x: np.ndarray, k: int, mirror: bool) -> np.ndarray:
    """Patch channels (..., Y, X, C) whose last two are a flow (dy, dx), already turned by ``k``
    quarter turns (``np.rot90`` over Y, X) and then mirrored along X when ``mirror``: the flow
    turned and mirrored with them, so that it still points where the pixels went."""
    x = np.array(x, dtype=np.float32)
    dy, dx = x[..., -2].copy(), x[..., -1].copy()
    for _ in range(k % 4):  # a quarter turn takes (dy, dx) to (-dx, dy)
        dy, dx = -dx, dy
    x[..., -2], x[..., -1] = dy, (-dx if mirror else dx)
    return x
