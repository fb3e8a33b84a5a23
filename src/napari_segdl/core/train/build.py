"""The network a run trains: which architecture, compiled on the run's devices, and its
float32 copy for prediction after reduced-precision training on a CPU."""

from __future__ import annotations

from ..backend import load_keras
from ..errors import SegDLError
from ..labels.heads import head_of, head_params
from .devices import dtype_policy, wants_mixed_precision


def check_initial(initial) -> None:
    """Only napari-segdl models are continued (a Model Zoo package predicts, no more)."""
    from ..bundle import SegModel

    if initial is not None and not isinstance(initial, SegModel):
        raise SegDLError(
            f"Only napari-segdl models can be continued or adapted; received a "
            f"{type(initial).__name__} ({initial}). A Model Zoo package predicts: continue the "
            ".keras model it was exported from, or train a new one."
        )


def architecture(config, mode: str, initial, spacing=None) -> tuple[str, dict]:
    """The network to train: the configured one, or the one of the model continued. A 3D
    network pools in-plane only at its first levels when ``spacing`` (z, y, x) is coarse in z."""
    if initial is not None:
        return initial.info.arch, dict(initial.info.arch_params)
    arch_params = {
        "depth": config.depth,
        "filters": config.filters,
        "batch_norm": config.batch_norm,
        "dropout": config.dropout,
    }
    if mode == "instance":
        arch_params.update(head_params(config.instance_head, config.dims))
    if config.dims == 3:
        from ..models.geometry import z_skip_for
        from .volumes import z_ratio

        arch_params.update(dims=3, z_skip=z_skip_for(z_ratio(spacing), config.depth))
    return config.arch, arch_params


#: The names of the encoder's layers (U-Net and SegNet), kept by ``freeze_encoder``.
ENCODER = ("down", "enc", "bottleneck")


def flow_weight(initial) -> float:
    """The weight of the flows in a flow head's loss: a continued model's own (the first
    weight for models that record none, the bundled nuclei model's), a new model's default."""
    from .losses import FIRST_FLOW_WEIGHT, FLOW_WEIGHT

    if initial is None:
        return FLOW_WEIGHT
    return float(initial.info.training.get("flow_weight", FIRST_FLOW_WEIGHT))


def compile_network(config, devices, arch, arch_params, channels, num_classes, weights, initial):
    """The compiled network on the run's devices, and what the run records of it: its
    mixed-precision policy (or None) and a flow head's ``flow_weight``."""
    keras = load_keras()
    from ..models import build_model
    from .losses import segmentation_loss

    mixed = wants_mixed_precision(config.mixed_precision)
    flows = head_of(arch_params) == "flow"
    recorded = {
        "mixed_precision": mixed,
        **({"flow_weight": flow_weight(initial)} if flows else {}),
    }
    with devices.building(), dtype_policy(mixed):
        network = build_model(arch, channels, num_classes, **arch_params)
        if initial is not None:  # a copy of its weights: the model continued from stays as it was
            network.set_weights(initial.keras_model.get_weights())
            for layer in network.layers:  # keep the statistics learnt on all its data
                if isinstance(layer, keras.layers.BatchNormalization) or (
                    config.freeze_encoder and layer.name.startswith(ENCODER)
                ):
                    layer.trainable = False
        network.compile(
            optimizer=keras.optimizers.Adam(config.lr),
            loss=segmentation_loss(
                weights,
                dice=config.loss == "crossentropy+dice",
                distance=head_of(arch_params) == "distance",
                flow=flows,
                flow_weight=recorded.get("flow_weight", 0.0),
            ),
            jit_compile=config.jit_compile,
        )
    return network, recorded


def float32_copy(network, arch: str, arch_params: dict, channels: int, class_map):
    """The trained network rebuilt in float32 with its weights (mixed policies keep float32
    weights), so that prediction computes in float32: tiles equal whole images to float
    round-off, as on a model trained in float32."""
    from ..models import build_model

    copy = build_model(arch, channels, class_map.num_classes, **arch_params)
    copy.set_weights(network.get_weights())
    return copy
