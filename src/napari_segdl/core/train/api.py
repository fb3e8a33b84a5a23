"""Training: from (image, labels) pairs or stacks to a :class:`SegModel`, one step at a time."""

from __future__ import annotations

from collections.abc import Callable, Collection, Generator, Sequence
from dataclasses import replace
from functools import partial

import numpy as np

from ..backend import describe_devices, gpu_names, load_keras
from ..bundle import ModelInfo, SegModel
from ..errors import SegDLError
from ..images import Normalization
from ..labels.heads import head_of
from ..models import check_patch, geometry
from .adapt import adapted_start
from .build import architecture, check_initial, compile_network, float32_copy
from .checkpoints import checkpoint_path
from .config import TrainConfig
from .devices import Devices
from .loop import StopRequest, TrainingEvent, default_steps, fit
from .memory import check_memory, memory_budget, volume_settings
from .pairs import prepare_pairs, through_recipe
from .replay import with_replay
from .sampling import pad_to_patch, split_for_guard, split_validation, training_patch
from .volumes import check_patch_z, check_spacing, prepare_volumes

__all__ = ["TrainingEvent", "iter_training", "prepare_pairs", "train"]


def iter_training(
    images: Sequence,
    labels: Sequence,
    config: TrainConfig,
    *,
    sources: Sequence[tuple[str, str]] | None = None,
    class_names: Sequence[str] | None = None,
    stop: StopRequest | None = None,
    recipe=None,
    initial: SegModel | None = None,
    channel_axis: int | None = None,
    regions=None,
    spacing=None,
    given: Collection[str] | None = None,
) -> Generator[TrainingEvent, None, SegModel]:
    """Train step by step, yielding a :class:`TrainingEvent` after each step and epoch.

    ``stop()`` is asked after every step; when it returns True (or ``max_time`` has
    passed) training ends. The best weights so far are restored however training
    ends, even when the generator is closed early. Returns the trained model.
    ``recipe`` (the preprocessing the images went through) is stored in the model, so
    prediction on raw images applies it. With ``initial`` (a trained model), training continues
    from its weights, keeping its network, label mode, classes and recipe. ``spacing`` (z, y, x)
    of volumes shapes a 3D network's pooling. ``given`` names the parameters the user set: a new
    3D network chooses the others of depth, patch, patch_z, batch and filters for the first
    volume and this machine's memory (None: all were set). Settings whose memory estimate
    exceeds the budget are refused (:func:`~napari_segdl.core.train.memory.check_memory`).
    """
    from ..preprocess import Recipe

    spacing = check_spacing(spacing)
    check_initial(initial)
    if initial is not None:  # a continued model keeps its dimensions
        config = replace(config, dims=int(initial.info.arch_params.get("dims", 2)))
    mode = initial.class_map.mode if initial is not None else config.mode
    if mode == "instance" and config.label_components:  # before adapting to them
        from ..labels.instances import number_objects

        labels = [number_objects(lab, volume=config.dims == 3) for lab in labels]
    # a continued instance model: its levels and scale fitted to the corrections first
    initial, images, labels = adapted_start(initial, images, labels, regions, recipe, sources)
    if not recipe and initial is not None and initial.info.recipe:  # raw images: as predict does
        images, labels, channel_axis = through_recipe(
            images, labels, initial, sources, channel_axis
        )
    recipe = Recipe.coerce(recipe if recipe or initial is None else initial.info.recipe)
    pairs, replayed = len(images), {}
    if initial is not None and config.replay and channel_axis is None and config.dims == 2:
        images, labels, sources, regions, replayed = with_replay(
            images, labels, sources, regions, initial, config.seed
        )  # what it knew, mixed in (a bundled model, or one continued from it)
    checkpoint = checkpoint_path(config.checkpoint_dir) if config.checkpoint_dir else None
    if initial is not None:  # the patch must fit the network continued, not the configured one
        check_patch(config.patch, initial.info.arch, initial.info.arch_params)
    chosen = {}
    if config.dims == 3 and initial is None and given is not None:
        shape = np.shape(images[0])[:3]
        config, chosen = volume_settings(config, shape, spacing, given, gpu=bool(gpu_names()))
    arch, arch_params = architecture(config, mode, initial, spacing)
    need = check_memory(config, arch_params)
    if config.dims == 3:
        check_patch_z(config.patch_z, geometry(arch, arch_params).z_multiple)
    prepare = prepare_volumes if config.dims == 3 else prepare_pairs
    arrays, targets, class_map, channels, extra, extras = prepare(
        images,
        labels,
        mode,
        sources,
        class_names,
        class_map=initial.class_map if initial is not None else None,
        channel_axis=channel_axis,
        head=head_of(arch_params),
        regions=regions,
    )
    if initial is not None and channels != initial.info.channels:
        raise SegDLError(
            f"The model was trained on images with {initial.info.channels} channel(s) but these "
            f"have {channels}: continue training on images like the ones it learned from "
            "(convert them, e.g. RGB to grey), or train a new model."
        )
    normalization = Normalization()
    inputs = [normalization.apply(a) for a in arrays]
    if extras is not None:  # last channels, so sampling and augmentation move them alike
        inputs = [np.concatenate([x, e], -1) for x, e in zip(inputs, extras, strict=True)]
    patch = training_patch(config)
    padded = [pad_to_patch(x, t, patch) for x, t in zip(inputs, targets, strict=True)]
    rng = np.random.default_rng(config.seed)
    split = split_validation
    if initial is not None and config.dims == 2:  # judged on corrections it did not train on
        split = partial(split_for_guard, multiple=2 ** int(initial.info.arch_params["depth"]))
    data = split([p[0] for p in padded], [p[1] for p in padded], patch, config.val_fraction, rng)
    extra.update(replayed)
    if spacing is not None:
        extra["spacing"] = list(spacing)
    extra["memory"] = {"estimate_gib": round(need / 2**30, 2), "budget": memory_budget()[1]}
    extra["memory"].update({"chosen": chosen} if chosen else {})
    steps = config.steps_per_epoch or default_steps(data, config)

    keras = load_keras()
    keras.utils.set_random_seed(config.seed)
    if checkpoint is not None:
        extra["checkpoint"] = str(checkpoint)
    weights = None
    if config.class_weights == "auto":
        from .losses import median_frequency_weights

        weights = median_frequency_weights(data.targets, class_map.num_classes)
        extra["class_weights"] = [round(float(w), 4) for w in weights]
    if initial is not None:
        start = initial.info.run
        extra["continued_from"] = {"epochs_run": start.epochs_run, "pairs": start.pairs}
        for key in ("scale", "adapted", "instance_levels"):  # at its adapted scale, and
            if key in initial.info.training:  # scored with its levels (epoch 0 too)
                extra[key] = initial.info.training[key]
    devices = Devices(config.distribute, config.batch)
    network, recorded = compile_network(
        config, devices, arch, arch_params, channels, class_map.num_classes, weights, initial
    )
    extra.update(recorded)
    extra["device"] = describe_devices()
    if devices.description:
        extra["distributed"] = devices.description
    info = ModelInfo(
        arch=arch,
        arch_params=arch_params,
        classes=class_map.to_dict(),
        channels=channels,
        normalization=normalization.to_dict(),
        patch=config.patch,
        recipe=recipe.to_dict() if recipe else {},
        training={
            **config.to_dict(),
            "mode": mode,
            "arch": arch,
            **arch_params,
            "pairs": pairs,
            "steps_per_epoch": steps,
            "validation_patches": len(data.val_images),
            **extra,
        },
    )
    model = SegModel(network, info)
    yield TrainingEvent("start", model, epochs=config.epochs, steps=steps)
    with devices.training():
        yield from fit(model, data, config, steps, stop, checkpoint)
    if extra["mixed_precision"] == "mixed_bfloat16":  # CPU training: float32 predictions
        model.keras_model = float32_copy(model.keras_model, arch, arch_params, channels, class_map)
    kept = model.info.run.kept_start is not None  # the start's weights: its post-processing
    if mode == "instance":  # the post-processing levels that suit this model best
        from .levels import tune_levels

        few = (len(data.val_images) < MIN_TUNING_PATCHES or kept) and initial is not None
        tuned = None if few else tune_levels(model, data, config.batch, extra["instance_min_size"])
        found = model.info.postprocessing
        if kept:  # the start's size and levels, as they were
            found = initial.info.postprocessing
        elif tuned is not None:
            found = found.tuned(tuned)
        elif initial is not None:  # a few corrected images: keep the model's levels
            start = initial.info.postprocessing
            found = replace(found, seed=start.seed, extent=start.extent,
                            flow_error=start.flow_error, group=start.group,
                            tuning=start.tuning)  # fmt: skip
        model.info.postprocessing = found
    return model


#: Fewer validation patches than this do not re-tune a continued model's post-processing.
MIN_TUNING_PATCHES = 8


def train(
    images,
    labels,
    *,
    class_names: Sequence[str] | None = None,
    sources: Sequence[tuple[str, str]] | None = None,
    callback: Callable[[TrainingEvent], None] | None = None,
    stop: StopRequest | None = None,
    recipe=None,
    initial: SegModel | None = None,
    channel_axis: int | None = None,
    regions=None,
    spacing=None,
    preset: str | None = None,
    **params,
) -> SegModel:
    """Train a segmentation model on painted labels.

    Parameters
    ----------
    images, labels : array or list of arrays
        One image and its labels, or lists of pairs: 2D images (Y, X) or (Y, X, C) with
        labels (Y, X), or stacks (Z/T, Y, X[, C]) with labels (Z/T, Y, X) trained as 2D
        slices (slices whose labels are all 0 are not painted yet and left out); with
        ``dims=3``, volumes (Z, Y, X[, C]) with labels (Z, Y, X) for a 3D network.
    class_names : list of str, optional
        A name for each painted label value, in increasing order of value.
    sources : list of (str, str), optional
        Names of each pair's image and labels, used in error messages.
    callback : callable, optional
        Called with every :class:`TrainingEvent`.
    stop : callable, optional
        Polled after every step; training ends (keeping the best weights) when it returns True.
    recipe : Recipe, dict or path, optional
        The preprocessing ``images`` went through (see :func:`napari_segdl.preprocess`); stored
        in the model and applied to raw images at prediction.
    channel_axis : int, optional
        The images' channel axis when it is not the last one (e.g. 0 for (C, Y, X)).
    regions : list of arrays or None, optional
        For each pair, a boolean mask of the labels' shape: train only where it is True (the
        parts a user checked, e.g. of a corrected prediction), or None for all of it.
    initial : SegModel, optional
        Continue training this model (human in the loop: correct its predictions, train
        again): its network, label mode, classes and recipe are kept; label values it does not
        know, or images with other channels, are refused. Continuing uses the ``fine-tune``
        preset for what ``params`` do not set; adapts a 2D instance model to the corrections
        first (:func:`~napari_segdl.core.train.adapt.adapt`); mixes in patches of a bundled
        model's own training data (``replay``); holds out a quarter of the corrected blocks and
        scores the model on them first: unless an epoch beats it there by more than chance
        (F1 at IoU 0.5 by 0.02 and in a paired bootstrap of the held-out objects; IoU by
        0.02 for the other modes: :mod:`~napari_segdl.core.train.guard`), it comes back
        unchanged (``model.info.run.kept_start`` says so).
    spacing : (float, float, float), optional
        Voxel spacing (z, y, x) of volumes (the layer's scale): a 3D network pools in-plane
        only at its first levels when z is coarser.
    preset : {"fast-cpu", "accurate-gpu"}, optional
        Hyper-parameters that work together (:data:`~napari_segdl.core.train.config.PRESETS`);
        parameters given beside it win.
    **params
        Hyper-parameters of :class:`~napari_segdl.core.train.config.TrainConfig`: ``mode``,
        ``arch``, ``epochs``, ``patch``, ``batch``, ``filters``, ``depth``, ``lr``,
        ``val_fraction``, ``max_time``, ``seed``, ``patience``, ... (``docs/api.md`` lists them
        with their defaults and ranges).

    Returns
    -------
    SegModel
        The trained model with the best weights; ``model.save(path)`` writes it.
    """
    if not isinstance(images, (list, tuple)):
        images, labels = [images], [labels]
    from .presets import PRESETS

    if initial is not None and preset is None:  # continuing means fine-tuning, unless set
        preset = "fine-tune"
    config = TrainConfig.create(preset, **params)
    run = iter_training(
        images,
        labels,
        config,
        sources=sources,
        class_names=class_names,
        stop=stop,
        recipe=recipe,
        initial=initial,
        channel_axis=channel_axis,
        regions=regions,
        spacing=spacing,
        given={*params, *PRESETS.get(preset, {})},
    )
    while True:
        try:
            event = next(run)
        except StopIteration as finished:
            return finished.value
        if callback is not None:
            callback(event)
