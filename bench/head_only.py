"""Fine-tuning the output layer only, on cached features: the bundled nuclei model's last 1x1
convolutions (classes and flows) refitted to a round of corrected images, the rest of the
network kept, so its features are computed once and thousands of steps take seconds.

    cd bench && python head_only.py [--kinds "stained tissue" fluorescence] [--round 4]
        [--steps 300 3000] [--lr 1e-3 1e-2]

The split is the correction curve's (``correction_curve.kind_pools``): the first ``--round``
images of a kind's pool stand for the corrections (their ground truth), its scored images are
unseen. Each (steps, lr) refits the head from the start on every pixel of the corrections
(batches of 4096 pixels, Adam) with the training loss of a flow model (cross-entropy of the
classes plus half the squared error of 5 x the flows); prints F1@0.5 / AP 0.5:0.95 on the
unseen images and F1@0.5 on the corrected ones, before and after, with the seconds.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time

import numpy as np

from _common import DATA, load, machine, today
from correction_curve import kind_pools
from fine_tune import scores
from napari_segdl import load_model, predict
from napari_segdl.core.backend import load_keras
from napari_segdl.core.labels.flows import object_flows
from napari_segdl.core.labels.instances import instance_targets

LAYERS = ("classifier_conv", "flow_conv")


def pixels(model, images, truths):
    """The last layer's input at every pixel of ``images`` (N, F), and its targets (N, 3)."""
    keras = load_keras()
    network = model.keras_model
    features = copy.copy(model)
    features.keras_model = keras.Model(network.inputs, network.get_layer(LAYERS[0]).input)
    x = [predict(features, image, probabilities=True) for image in images]
    x = np.concatenate([f.reshape(-1, f.shape[-1]) for f in x]).astype(np.float32)
    targets = [
        np.concatenate([instance_targets(t)[..., None], object_flows(t.astype(np.int32))], -1)
        for t in truths
    ]
    return x, np.concatenate([t.reshape(-1, 3) for t in targets]).astype(np.float32)


def refitted(model, x, y, steps: int, lr: float):
    """A copy of ``model`` whose last layers are refitted to the pixels (x, y)."""
    keras = load_keras()
    ops = keras.ops
    network = model.keras_model
    inputs = keras.Input((x.shape[-1],))
    dense = [keras.layers.Dense(2 + (name == LAYERS[0]), name=name) for name in LAYERS]
    classes = keras.layers.Activation("softmax")(dense[0](inputs))
    head = keras.Model(inputs, keras.layers.Concatenate()([classes, dense[1](inputs)]))
    for layer in dense:
        kernel, bias = network.get_layer(layer.name).get_weights()
        layer.set_weights([kernel.reshape(x.shape[-1], -1), bias])

    def loss(truth, out):
        kinds = ops.cast(truth[:, 0], "int32")
        entropy = keras.losses.sparse_categorical_crossentropy(kinds, out[:, :3])
        return ops.mean(entropy) + ops.mean(ops.sum(ops.square(out[:, 3:] - truth[:, 1:]), -1)) * 25 / 4  # fmt: skip

    head.compile(keras.optimizers.Adam(lr), loss)
    head.fit(x, y, batch_size=4096, epochs=max(1, steps * 4096 // len(x)), verbose=0)
    copied = keras.models.clone_model(network)
    copied.set_weights(network.get_weights())
    for layer in dense:
        kernel, bias = layer.get_weights()
        target = copied.get_layer(layer.name)
        target.set_weights([kernel.reshape(target.get_weights()[0].shape), bias])
    out = copy.copy(model)
    out.keras_model = copied
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=type(DATA), default=DATA)
    parser.add_argument("--model", default="nuclei")
    parser.add_argument("--kinds", nargs="+", default=["stained tissue", "fluorescence"])
    parser.add_argument("--round", type=int, default=4)
    parser.add_argument("--steps", type=int, nargs="+", default=[300, 3000])
    parser.add_argument("--lr", type=float, nargs="+", default=[1e-3, 1e-2])
    args = parser.parse_args()
    print(f"# {machine()} {today()} load {load()} python {' '.join(sys.argv)}", flush=True)
    kinds, _ = kind_pools(args.data)
    start = load_model(args.model)
    for name in args.kinds:
        (images, truths), scored = kinds[name]
        corrected = (images[: args.round], truths[: args.round])
        x, y = pixels(start, *corrected)
        row = {"kind": name, "round": args.round, "pixels": len(x)}
        print(json.dumps(row | {"start": scores(start, *scored),
                                "start_corrected": scores(start, *corrected)}), flush=True)  # fmt: skip
        for steps, lr in zip(args.steps, args.lr, strict=True):
            began = time.monotonic()
            model = refitted(start, x, y, steps, lr)
            seconds = round(time.monotonic() - began, 1)
            print(json.dumps(row | {"steps": steps, "lr": lr, "seconds": seconds,
                                    "unseen": scores(model, *scored),
                                    "corrected": scores(model, *corrected)}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
