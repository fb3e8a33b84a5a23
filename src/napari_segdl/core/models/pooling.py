"""Max pooling that remembers where each maximum was, and the unpooling that puts it back.

SegNet's decoder upsamples with the encoder's pooling indices. Keras has no such layer, so both
are written with ``keras.ops`` (any backend): a 2x2 window is reshaped to a last axis of four,
whose ``argmax`` is the index; unpooling scatters each value back with a one-hot of that index.
Registered as serialisable, so a bundle with them loads in Keras' safe mode.
"""

from __future__ import annotations

from ..backend import load_keras

keras = load_keras()
ops = keras.ops


@keras.saving.register_keras_serializable(package="napari_segdl")
class MaxPoolingWithArgmax2D(keras.layers.Layer):
    """2x2, stride-2 max pooling; returns the maxima and their index 0..3 in each window."""

    def call(self, x):
        _, height, width, channels = ops.shape(x)
        windows = ops.reshape(x, (-1, height // 2, 2, width // 2, 2, channels))
        windows = ops.transpose(windows, (0, 1, 3, 5, 2, 4))  # (B, H/2, W/2, C, 2, 2)
        windows = ops.reshape(windows, (-1, height // 2, width // 2, channels, 4))
        return ops.max(windows, axis=-1), ops.cast(ops.argmax(windows, axis=-1), "int32")

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


CUSTOM_OBJECTS = {
    "napari_segdl>MaxPoolingWithArgmax2D": MaxPoolingWithArgmax2D,
    "napari_segdl>MaxUnpooling2D": MaxUnpooling2D,
}
