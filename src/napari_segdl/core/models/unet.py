"""U-Net (Ronneberger et al. 2015) as a Keras 3 factory."""

from __future__ import annotations

from ..backend import load_keras
from .blocks import check_network_args, conv_block, image_input, outputs, pool_factors

keras = load_keras()
layers = keras.layers


def build_unet(
    input_channels: int,
    num_classes: int,
    depth: int = 4,
    filters: int = 32,
    batch_norm: bool = True,
    dropout: float = 0.0,
    distance_head: bool = False,
    flow_head: bool = False,
    name: str = "unet",
    dims: int = 2,
    z_skip: int = 0,
) -> keras.Model:
    """Build a 2D or 3D U-Net for any input height and width divisible by ``2**depth``.

    Parameters
    ----------
    input_channels : int
        Channels of the input image (1 for grey, 3 for RGB, ...).
    num_classes : int
        Output classes: a softmax over ``num_classes``, or a sigmoid when 1.
    depth : int
        Number of 2x2 poolings, 2 to 5.
    filters : int
        Filters of the first level; each level below doubles them.
    batch_norm : bool
        Batch normalisation after every convolution.
    dropout : float
        Dropout rate in [0, 1) at the bottleneck.
    distance_head : bool
        One more output channel after the class probabilities: each object's distance to its
        border, 0 to 1 (instance mode's ``distance`` head).
    flow_head : bool
        Two more output channels after the class probabilities: the flow (dy, dx) towards
        each object's centre (instance mode's ``flow`` head; 2D only).
    name : str
        Name of the model.
    dims : {2, 3}
        2: images (Y, X, C); 3: volumes (Z, Y, X, C) with 3x3x3 convolutions.
    z_skip : int
        3D only: the first ``z_skip`` levels pool in-plane only (z spacing coarser than x-y),
        so the input depth must be divisible by ``2**(depth - z_skip)``.

    Returns
    -------
    keras.Model
        Input ``(None, None, input_channels)``, output ``(None, None, num_classes)`` (one more
        channel with ``distance_head``, two with ``flow_head``); with ``dims=3`` one more
        ``None`` in front.
    """
    check_network_args(input_channels, num_classes, depth, filters, dropout, dims, z_skip)
    pool = layers.MaxPooling3D if dims == 3 else layers.MaxPooling2D
    upconv = layers.Conv3DTranspose if dims == 3 else layers.Conv2DTranspose

    inputs = image_input(input_channels, dims)
    x = inputs
    skips = []
    factors = pool_factors(depth, dims, z_skip)
    for level in range(depth):
        x = conv_block(x, filters * 2**level, batch_norm, name=f"down{level}", dims=dims)
        skips.append(x)
        x = pool(factors[level], name=f"down{level}_pool")(x)
    x = conv_block(x, filters * 2**depth, batch_norm, name="bottleneck", dims=dims)
    if dropout:
        x = layers.Dropout(dropout, name="bottleneck_dropout")(x)
    for level in reversed(range(depth)):
        x = upconv(
            filters * 2**level,
            factors[level],
            strides=factors[level],
            padding="same",
            name=f"up{level}_upconv",
        )(x)
        x = layers.Concatenate(name=f"up{level}_concat")([skips[level], x])
        x = conv_block(x, filters * 2**level, batch_norm, name=f"up{level}", dims=dims)
    return keras.Model(inputs, outputs(x, num_classes, distance_head, dims, flow_head), name=name)
