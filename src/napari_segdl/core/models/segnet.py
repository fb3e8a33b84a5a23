"""SegNet (Badrinarayanan et al. 2017) as a Keras 3 factory: the decoder upsamples with the
encoder's max-pooling indices instead of learned up-convolutions or skip concatenations."""

from __future__ import annotations

from ..backend import load_keras
from .blocks import check_network_args, conv_block, image_input, outputs, pool_factors
from .pooling import (
    MaxPoolingWithArgmax2D,
    MaxPoolingWithArgmax3D,
    MaxUnpooling2D,
    MaxUnpooling3D,
)

keras = load_keras()
layers = keras.layers


def build_segnet(
    input_channels: int,
    num_classes: int,
    depth: int = 4,
    filters: int = 32,
    batch_norm: bool = True,
    dropout: float = 0.0,
    distance_head: bool = False,
    flow_head: bool = False,
    name: str = "segnet",
    dims: int = 2,
    z_skip: int = 0,
) -> keras.Model:
    """Build a 2D or 3D SegNet for any input height and width divisible by ``2**depth``.

    Parameters are those of :func:`~napari_segdl.core.models.unet.build_unet`: ``depth`` 2x2
    poolings (2 to 5), ``filters`` at the first level doubling at each level below, batch norm
    after every convolution, ``dropout`` in [0, 1) at the bottleneck, ``distance_head`` or ``flow_head``, and
    ``dims`` with ``z_skip`` for volumes.

    Returns
    -------
    keras.Model
        Input ``(None, None, input_channels)``, output ``(None, None, num_classes)``.
    """
    check_network_args(input_channels, num_classes, depth, filters, dropout, dims, z_skip)
    factors = pool_factors(depth, dims, z_skip)

    def pooling(level):
        if dims == 2:
            return MaxPoolingWithArgmax2D(name=f"enc{level}_pool")
        return MaxPoolingWithArgmax3D(pool_z=factors[level][0], name=f"enc{level}_pool")

    def unpooling(level):
        if dims == 2:
            return MaxUnpooling2D(name=f"dec{level}_unpool")
        return MaxUnpooling3D(pool_z=factors[level][0], name=f"dec{level}_unpool")

    inputs = image_input(input_channels, dims)
    x, indices = inputs, []
    for level in range(depth):
        x = conv_block(x, filters * 2**level, batch_norm, name=f"enc{level}", dims=dims)
        x, index = pooling(level)(x)
        indices.append(index)
    x = conv_block(x, filters * 2 ** (depth - 1), batch_norm, name="bottleneck", dims=dims)
    if dropout:
        x = layers.Dropout(dropout, name="bottleneck_dropout")(x)
    for level in reversed(range(depth)):
        x = unpooling(level)([x, indices[level]])
        x = conv_block(
            x, filters * 2 ** max(level - 1, 0), batch_norm, name=f"dec{level}", dims=dims
        )
    return keras.Model(inputs, outputs(x, num_classes, distance_head, dims, flow_head), name=name)
