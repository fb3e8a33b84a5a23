"""Tensor -> tensor building blocks shared by the networks (Keras 3, any backend)."""

from __future__ import annotations

from ..backend import load_keras
from ..errors import SegDLError

layers = load_keras().layers


def check_int(name: str, value, low: int, high: int | None = None) -> int:
    """``value`` if it is an integer in [low, high]; else a SegDLError in Keras' wording."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bounds = f"between {low} and {high}" if high is not None else f">= {low}"
        raise SegDLError(f"`{name}` must be an integer {bounds}. Received: {name}={value!r}")
    return value


def check_network_args(
    input_channels, num_classes, depth, filters, dropout, dims=2, z_skip=0
) -> None:
    """Validate the arguments every network factory shares, before any layer is built."""
    check_int("input_channels", input_channels, 1)
    check_int("num_classes", num_classes, 1)
    check_int("depth", depth, 2, 5)
    check_int("filters", filters, 1)
    if not 0.0 <= float(dropout) < 1.0:
        raise SegDLError(f"`dropout` must be in [0, 1). Received: dropout={dropout!r}")
    if dims not in (2, 3) or isinstance(dims, bool):
        raise SegDLError(f"`dims` must be 2 or 3. Received: dims={dims!r}")
    check_int("z_skip", z_skip, 0, depth if dims == 3 else 0)


def pool_factors(depth: int, dims: int = 2, z_skip: int = 0) -> list[tuple[int, ...]]:
    """The pooling factor of every level: 2 along each axis, but 1 along z for the first
    ``z_skip`` levels of a 3D network (coarse z spacing: pool in-plane until it is isotropic)."""
    if dims == 2:
        return [(2, 2)] * depth
    return [(1 if level < z_skip else 2, 2, 2) for level in range(depth)]


def conv_layer(dims: int):
    """Keras' convolution class for ``dims`` spatial dimensions."""
    return layers.Conv3D if dims == 3 else layers.Conv2D


def image_input(input_channels: int, dims: int = 2):
    """The network's input: any size along each of ``dims`` axes, channels last."""
    return load_keras().Input((None,) * dims + (input_channels,), name="image")


def conv_block(x, filters: int, batch_norm: bool, name: str, dims: int = 2):
    """Two 3x3 (3x3x3) convolutions, each followed by optional batch norm and ReLU."""
    for i in (1, 2):
        x = conv_layer(dims)(
            filters,
            3,
            padding="same",
            use_bias=not batch_norm,
            kernel_initializer="he_normal",
            name=f"{name}_conv{i}",
        )(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn{i}")(x)
        x = layers.Activation("relu", name=f"{name}_relu{i}")(x)
    return x


def outputs(x, num_classes: int, distance_head: bool = False, dims: int = 2, flow_head=False):
    """The network's outputs: class probabilities, then with ``distance_head`` one channel,
    each object's distance to its border (0 at the rim, 1 at its centre) through a sigmoid, or
    with ``flow_head`` two, the flow (dy, dx) towards each object's centre (unbounded; unit
    vectors inside objects when trained, :mod:`~napari_segdl.core.labels.flows`)."""
    probabilities = classifier(x, num_classes, dims=dims)
    if flow_head:
        if dims != 2:
            raise SegDLError("The flow head is for 2D networks; use the boundary head in 3D.")
        flows = conv_layer(dims)(2, 1, name="flow_conv")(x)
        flows = layers.Activation("linear", dtype="float32", name="flow_linear")(flows)
        return layers.Concatenate(dtype="float32", name="outputs")([probabilities, flows])
    if not distance_head:
        return probabilities
    distance = conv_layer(dims)(1, 1, name="distance_conv")(x)
    distance = layers.Activation("sigmoid", dtype="float32", name="distance_sigmoid")(distance)
    return layers.Concatenate(dtype="float32", name="outputs")([probabilities, distance])


def classifier(x, num_classes: int, name: str = "classifier", dims: int = 2):
    """1x1 convolution to class scores; softmax (sigmoid for one class) in float32.

    The activation runs in float32 so that mixed-precision models keep stable outputs.
    """
    x = conv_layer(dims)(num_classes, 1, name=f"{name}_conv")(x)
    activation = "sigmoid" if num_classes == 1 else "softmax"
    return layers.Activation(activation, dtype="float32", name=f"{name}_{activation}")(x)
