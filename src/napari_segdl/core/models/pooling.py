"""Max pooling that remembers where each maximum was, and the unpooling that puts it back.

SegNet's decoder upsamples with the encoder's pooling indices. Keras has no such layer, so both
are written with ``keras.ops`` (any backend): a 2x2 window is reshaped to a last axis of four,
whose first maximum gives the index; unpooling scatters each value back with a one-hot of that index.
Registered as serialisable, so a bundle with them loads in Keras' safe mode.
"""

from __future__ import annotations

from ..backend import load_keras

keras = load_keras()
ops = keras.ops


def max_and_index(windows, size: int):
    """The maximum over the last axis (of ``size``) and the index of its first occurrence.

    Written as a chain of comparisons rather than ``ops.argmax``, whose TensorFlow lowering
    (bit casts) has no ONNX equivalent: exported SegNets then run in ONNX Runtime too.
    """
    best = windows[..., 0]
    index = ops.zeros_like(best, dtype="int32")
    for k in range(1, size):
        value = windows[..., k]
        better = ops.greater(value, best)
        index = ops.where(better, ops.full_like(index, k), index)
        best = ops.maximum(best, value)
    return best, index


@keras.saving.register_keras_serializable(package="napari_segdl")
class MaxPoolingWithArgmax2D(keras.layers.Layer):
    """2x2, stride-2 max pooling; returns the maxima and their index 0..3 in each window."""

    def call(self, x):
        _, height, width, channels = ops.shape(x)
        windows = ops.reshape(x, (-1, height // 2, 2, width // 2, 2, channels))
        windows = ops.transpose(windows, (0, 1, 3, 5, 2, 4))  # (B, H/2, W/2, C, 2, 2)
        windows = ops.reshape(windows, (-1, height // 2, width // 2, channels, 4))
        return max_and_index(windows, 4)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        half = (
            batch,
            None if height is None else height // 2,
            None if width is None else width // 2,
            channels,
        )
        return half, half


@keras.saving.register_keras_serializable(package="napari_segdl")
class MaxUnpooling2D(keras.layers.Layer):
    """Put each value back where :class:`MaxPoolingWithArgmax2D` found it; zeros elsewhere."""

    def call(self, inputs):
        x, indices = inputs
        _, height, width, channels = ops.shape(x)
        spread = ops.one_hot(indices, 4, dtype=x.dtype) * ops.expand_dims(x, -1)
        spread = ops.reshape(spread, (-1, height, width, channels, 2, 2))
        spread = ops.transpose(spread, (0, 1, 4, 2, 5, 3))  # (B, H/2, 2, W/2, 2, C)
        return ops.reshape(spread, (-1, height * 2, width * 2, channels))

    def compute_output_shape(self, input_shapes):
        batch, height, width, channels = input_shapes[0]
        return (
            batch,
            None if height is None else height * 2,
            None if width is None else width * 2,
            channels,
        )


def _halved(size, factor):
    return None if size is None else size // factor


@keras.saving.register_keras_serializable(package="napari_segdl")
class MaxPoolingWithArgmax3D(keras.layers.Layer):
    """(pool_z)x2x2 max pooling of volumes (B, Z, Y, X, C); returns the maxima and their index
    in each window (``pool_z`` 1 pools in-plane only, for coarse z spacing)."""

    def __init__(self, pool_z: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.pool_z = int(pool_z)

    def call(self, x):
        _, depth, height, width, channels = ops.shape(x)
        fz = self.pool_z
        windows = ops.reshape(x, (-1, depth // fz, fz, height // 2, 2, width // 2, 2, channels))
        windows = ops.transpose(windows, (0, 1, 3, 5, 7, 2, 4, 6))  # (B, Z', Y', X', C, fz, 2, 2)
        windows = ops.reshape(
            windows, (-1, depth // fz, height // 2, width // 2, channels, fz * 4)
        )
        return max_and_index(windows, fz * 4)

    def compute_output_shape(self, input_shape):
        batch, depth, height, width, channels = input_shape
        half = (
            batch,
            _halved(depth, self.pool_z),
            _halved(height, 2),
            _halved(width, 2),
            channels,
        )
        return half, half

    def get_config(self):
        return {**super().get_config(), "pool_z": self.pool_z}


@keras.saving.register_keras_serializable(package="napari_segdl")
class MaxUnpooling3D(keras.layers.Layer):
    """Put each value back where :class:`MaxPoolingWithArgmax3D` found it; zeros elsewhere."""

    def __init__(self, pool_z: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.pool_z = int(pool_z)

    def call(self, inputs):
        x, indices = inputs
        _, depth, height, width, channels = ops.shape(x)
        fz = self.pool_z
        spread = ops.one_hot(indices, fz * 4, dtype=x.dtype) * ops.expand_dims(x, -1)
        spread = ops.reshape(spread, (-1, depth, height, width, channels, fz, 2, 2))
        spread = ops.transpose(spread, (0, 1, 5, 2, 6, 3, 7, 4))  # (B, Z, fz, Y, 2, X, 2, C)
        return ops.reshape(spread, (-1, depth * fz, height * 2, width * 2, channels))

    def compute_output_shape(self, input_shapes):
        batch, depth, height, width, channels = input_shapes[0]
        grow = [None if n is None else n * f for n, f in ((depth, self.pool_z), (height, 2))]
        return (batch, *grow, None if width is None else width * 2, channels)

    def get_config(self):
        return {**super().get_config(), "pool_z": self.pool_z}


CUSTOM_OBJECTS = {
    f"napari_segdl>{layer.__name__}": layer
    for layer in (
        MaxPoolingWithArgmax2D,
        MaxUnpooling2D,
        MaxPoolingWithArgmax3D,
        MaxUnpooling3D,
    )
}
