"""Replay: patches of a bundled model's own training images, mixed into the corrected images
when it (or a model continued from it) is fine-tuned, so that a few images of one kind teach
it that kind without making it forget the others it knew. The held-out blocks that judge the
run (see ``sampling.split_for_guard``) then include replay patches too: an epoch that forgets
what the start knew scores lower there."""

from __future__ import annotations

import numpy as np

from ..errors import SegDLError

#: Replay pixels per corrected pixel: as many patches of the model's own data as corrections.
SHARE = 1.0
#: At least this many replay patches, however small the corrections.
FEWEST = 2


def replay_source(model) -> str | None:
    """The bundled model whose replay patches suit ``model``: itself, or the one it was
    continued from (recorded as ``info.run.replay_of``); None for other models."""
    from ..models.bundled import BUNDLED

    named = model.info.run.replay_of
    if named in BUNDLED.entries:
        return named
    path = getattr(model, "path", None)
    for name in BUNDLED.names():
        if path is not None and BUNDLED.replay_path(name) and BUNDLED.path(name) == path:
            return name
    return None


def replay_patches(name: str, pixels: int, seed: int, share: float = SHARE):
    """``(images, labels)`` of the bundled model ``name``'s replay patches, about ``share``
    times ``pixels`` of them (at least :data:`FEWEST`), drawn with ``seed``."""
    from ..models.bundled import BUNDLED

    path = BUNDLED.replay_path(name)
    try:
        with np.load(path, allow_pickle=False) as archive:
            images, labels = archive["images"], archive["labels"]
    except (OSError, ValueError, KeyError) as error:
        raise SegDLError(
            f"The replay patches of the bundled model '{name}' ({path}) cannot be read: "
            f"{error}. Reinstall napari-segdl."
        ) from error
    count = int(np.clip(round(share * pixels / images[0].size), FEWEST, len(images)))
    chosen = np.sort(np.random.default_rng(seed).choice(len(images), count, replace=False))
    return [images[k] for k in chosen], [labels[k] for k in chosen]


def corrected_pixels(labels, regions) -> int:
    """The pixels a user corrected: those of the checked region of each pair, or of all of its
    labels where none was checked (a region outside which nothing was looked at must not bring
    in the replay patches of a whole image, which then outweigh the corrections)."""
    if regions is None:
        regions = [None] * len(labels)
    return sum(
        int(np.prod(np.shape(lab))) if region is None else int(np.count_nonzero(region))
        for lab, region in zip(labels, regions, strict=True)
    )


def with_replay(images, labels, sources, regions, initial, seed: int):
    """The pairs with replay patches of ``initial``'s bundled model added (named so in
    messages), and a record for the run's training info (empty: ``initial`` has none)."""
    name = replay_source(initial)
    if name is None:
        return images, labels, sources, regions, {}
    pixels = corrected_pixels(labels, regions)
    extra_images, extra_labels = replay_patches(name, pixels, seed)
    count = len(extra_images)
    sources = list(sources or [(f"image {i}", f"labels {i}") for i in range(len(images))])
    sources += [(f"replay patch {k} of '{name}'", f"replay labels {k}") for k in range(count)]
    if regions is not None:
        regions = [*regions, *(None for _ in range(count))]
    record = {"replay_of": name, "replay_patches": count}
    return [*images, *extra_images], [*labels, *extra_labels], sources, regions, record
