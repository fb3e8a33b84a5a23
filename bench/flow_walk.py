"""How long the pixels of a flow model walk, and what stopping them early costs in F1.

    python bench/flow_walk.py          # after: python representations.py --rep flow --steps 1200

The DSB flow model that ``representations.py`` keeps (1200 steps, seed 0) predicts the 27
validation images; the pixels above probability 0.5 then follow its flows (``labels.flows``)
for all 200 steps, or stop once they moved less than ``still`` pixels in ``check`` steps (they
circle their object's centre). Prints, for each way, the seconds of the walks and the F1@0.5 of
the grouped objects at each ``gather``.
"""

from __future__ import annotations

import json
import time

from _common import load, machine, today
from representations import WEIGHTS, infer, network, read_set

#: (name, check, still): how often the walking pixels are checked, and how far they must have
#: moved since to walk on.
WAYS = [
    ("all 200 steps", 10**9, 0.0),
    ("check 8, still 2", 8, 2.0),
    ("check 8, still 1", 8, 1.0),
    ("check 16, still 2", 16, 2.0),
    ("check 16, still 1", 16, 1.0),
    ("check 32, still 3", 32, 3.0),
]


def main() -> None:
    import keras

    from napari_segdl import evaluate
    from napari_segdl.core.labels import flows

    keras.mixed_precision.set_global_policy("mixed_bfloat16")  # as it was trained
    _, val, _ = read_set("dsb", None)
    model = network("flow", 3, 1e-3, 1200)
    model.load_weights(WEIGHTS / "dsb-flow-1200-0.weights.h5")
    outputs = [infer(model, "flow", image) for _, image, _ in val]
    truths = [labels for _, _, labels in val]
    rows, chosen = [], (flows.CHECK, flows.STILL)
    for name, check, still in WAYS:
        flows.CHECK, flows.STILL = check, still
        start = time.monotonic()
        ends = [flows.follow(out[..., :2], out[..., 2] > 0.5) for out in outputs]
        seconds = time.monotonic() - start
        f1 = {
            gather: evaluate(
                [
                    flows.group(e, o[..., 2] > 0.5, gather, 10)
                    for e, o in zip(ends, outputs, strict=True)
                ],
                truths,
                instance=True,
            )["f1_50"]
            for gather in (5, 10, 20, 40)
        }
        rows.append({"way": name, "seconds": round(seconds, 1), "f1_50": f1})
        print(json.dumps(rows[-1]), flush=True)
    flows.CHECK, flows.STILL = chosen
    print(json.dumps({"date": today(), "machine": machine(), "load": load(), "images": len(val)}))


if __name__ == "__main__":
    main()
