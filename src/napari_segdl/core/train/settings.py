"""A model's training settings read back into a :class:`~.config.TrainConfig`: train again
with the settings of this model in one call.

A bundle records its settings in ``info.training`` beside what the run found (epochs run,
levels, provenance), and for mixed precision the policy that ran rather than the setting;
:func:`settings_of` keeps the settings only, so that bundles of every earlier version read back.
"""

from __future__ import annotations

from dataclasses import fields

from ..errors import SegDLError
from ..schema import check_value
from .config import TrainConfig

#: The policy a run records -> the setting that asks for it.
_POLICIES = {"mixed_bfloat16": "bfloat16", "mixed_float16": "on", "float32": "off"}
#: Settings of the machine that trained, not of the model: left at this machine's defaults.
_LOCAL = ("checkpoint_dir",)


def settings_of(model) -> TrainConfig:
    """The settings ``model`` was trained with (a :class:`SegModel` or its ``ModelInfo``).

    Use them as ``train(images, labels, **settings_of(model).to_dict())``, or change some with
    ``dataclasses.replace``. A recorded value that today's settings no longer take (a bundle
    of an older version) is left at its default; a model with no training record at all (a
    network from elsewhere) is refused.
    """
    info = getattr(model, "info", model)
    recorded = {**(info.training or {}), **(info.arch_params or {}), "arch": info.arch}
    if not info.training:
        raise SegDLError(
            "This model records no training settings (it was not trained by napari-segdl); "
            "choose the settings yourself."
        )
    if recorded.get("mixed_precision") in _POLICIES:
        recorded["mixed_precision"] = _POLICIES[recorded["mixed_precision"]]
    recorded.setdefault("patch", info.patch)
    settings = {}
    for item in fields(TrainConfig):
        if item.name not in recorded or item.name in _LOCAL:
            continue
        try:
            check_value(item, recorded[item.name])
        except SegDLError:  # a value of an older version: today's default instead
            continue
        settings[item.name] = recorded[item.name]
    return TrainConfig(**settings)
