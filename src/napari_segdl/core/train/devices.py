"""Where training runs: mixed precision on GPUs, several devices through Keras' own engines.

Several GPUs of one machine train one model with ``tf.distribute.MirroredStrategy`` on
TensorFlow and with the Keras distribution API (``keras.distribution.DataParallel``) on JAX;
several machines with ``MultiWorkerMirroredStrategy`` (TensorFlow, cluster from ``TF_CONFIG``)
or ``keras.distribution.initialize()`` (JAX). See docs/concepts.md, "Several GPUs and machines".
"""

from __future__ import annotations

import contextlib

from ..backend import gpu_names, gpu_prefers_bfloat16, load_keras
from ..errors import SegDLError


class Devices:
    """The devices of one training run, chosen by ``TrainConfig.distribute``.

    ``building()`` is the context in which the network is built and compiled, ``training()``
    the one in which its steps run; ``replicas`` is how many devices share every batch.
    """

    def __init__(self, setting: str, batch: int):
        keras = load_keras()
        self.backend = keras.backend.backend()
        self.replicas, self.description = 1, None
        self._strategy = self._distribution = None
        gpus = len(gpu_names())
        several = setting in ("mirrored", "multi-worker") or (setting == "auto" and gpus >= 2)
        if not several:
            return
        if self.backend == "tensorflow":
            self._strategy = self._tensorflow_strategy(setting)
            self.replicas = self._strategy.num_replicas_in_sync
            name = type(self._strategy).__name__
        elif self.backend == "jax":
            import jax

            if setting == "multi-worker":
                keras.distribution.initialize()  # the cluster from JAX's environment variables
            devices = jax.devices("gpu") if gpus else jax.devices()
            self._distribution = keras.distribution.DataParallel(devices=devices)
            self.replicas, name = len(devices), "keras.distribution.DataParallel"
        else:
            raise SegDLError(
                f"Training on several devices needs the TensorFlow or JAX backend, not "
                f"{self.backend!r}; use distribute='none'."
            )
        self.description = f"{name} over {self.replicas} devices"
        if batch % self.replicas:
            raise SegDLError(
                f"batch {batch} does not split evenly over {self.replicas} devices; use a "
                f"multiple of {self.replicas}."
            )

    @staticmethod
    def _tensorflow_strategy(setting: str):
        import tensorflow as tf

        if setting == "multi-worker":
            return tf.distribute.MultiWorkerMirroredStrategy()
        gpus = tf.config.list_logical_devices("GPU")
        devices = gpus or tf.config.list_logical_devices("CPU")  # CPUs: tests, no GPU
        return tf.distribute.MirroredStrategy([device.name for device in devices])

    def building(self):
        if self._strategy is not None:
            return self._strategy.scope()
        return self.training()

    def training(self):
        if self._distribution is not None:
            return self._distribution.scope()
        return contextlib.nullcontext()


def wants_mixed_precision(setting: str) -> str | None:
    """The Keras dtype policy of a setting (None: float32): "on" float16, "bfloat16", "off"
    none; "auto" on a GPU bfloat16 where it is as fast as float16 (CUDA GPUs from Ampere on,
    TensorFlow or PyTorch: no loss scaling) else float16; on a CPU with bfloat16 instructions
    (AVX-512 BF16 or AMX) bfloat16 under TensorFlow, where it trained 1.6x the patches in the
    same time at the same quality on an AMD EPYC (but 0.71x on an Intel Xeon: an open
    question), not under PyTorch, where it trained no faster (docs/benchmarks.md); else none."""
    if setting == "bfloat16":
        return "mixed_bfloat16"
    if setting == "on":
        return "mixed_float16"
    if setting != "auto":
        return None
    if gpu_names():
        return "mixed_bfloat16" if gpu_prefers_bfloat16() else "mixed_float16"
    if cpu_has_bfloat16() and load_keras().backend.backend() == "tensorflow":
        return "mixed_bfloat16"
    return None


def cpu_has_bfloat16() -> bool:
    """True on a CPU with bfloat16 instructions (Linux: ``avx512_bf16`` or ``amx_bf16``)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            flags = next((line for line in info if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


@contextlib.contextmanager
def dtype_policy(mixed: str | None):
    """Layers built inside compute in ``mixed`` (a Keras mixed policy) with float32 weights.

    The networks' outputs are float32 layers, so losses and probabilities stay float32; Keras'
    ``compile`` scales the loss of such a model on its own.
    """
    keras = load_keras()
    previous = keras.config.dtype_policy()
    if mixed:
        keras.config.set_dtype_policy(mixed)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


#: Words by which TensorFlow, JAX (XLA) and PyTorch say that device memory ran out.
_OOM_MARKERS = ("ResourceExhausted", "RESOURCE_EXHAUSTED", "OutOfMemory", "out of memory", "OOM ")


def out_of_memory_advice(error: BaseException, batch: int, patch: int) -> SegDLError | None:
    """A :class:`SegDLError` with advice when ``error`` says device memory ran out, else None."""
    text = f"{type(error).__name__}: {error}"
    if not any(marker in text for marker in _OOM_MARKERS):
        return None
    smaller_patch = max(patch // 2, 32)
    device = "The device"
    if "MPS" in text:  # PyTorch on an Apple GPU, which shares the Mac's memory
        device = "The Apple GPU (PyTorch's MPS)"
    elif "CUDA out of memory" in text or "OutOfMemoryError" in text:
        device = "The CUDA GPU (PyTorch)"
    torch = (
        ""
        if device == "The device"
        else (
            " PyTorch keeps memory it freed for reuse: close other GPU programs, or free this "
            "one's memory (the dock's Free memory) before training again."
        )
    )
    return SegDLError(
        f"{device} ran out of memory training batches of {batch} patches of {patch}x{patch} "
        f"pixels. Use a smaller batch (e.g. {max(batch // 2, 1)}) or patch ({smaller_patch}), "
        "fewer filters, or mixed precision on a GPU; the best model so far is in the "
        f"checkpoint folder if one was set.{torch}"
    )
