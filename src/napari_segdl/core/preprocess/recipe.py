"""Recipes: an ordered list of preprocessing steps, JSON-serialisable and re-applicable.

A recipe made in the Preprocess dock travels in the output layer's metadata, then in the model
bundle of a model trained on that layer, so prediction on a raw image applies the very same
steps and maps the result back to the raw image's shape.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import SegDLError
from ..paths import atomic_write
from .catalogue import OPERATIONS
from .ops import Operation

#: Version of the recipe layout; a recipe with a larger number is refused.
RECIPE_VERSION = 1
#: Key of a recipe in a layer's metadata and of the recipe object in JSON.
RECIPE_KEY = "napari_segdl_recipe"


@dataclass
class Step:
    """One operation with its parameters (defaults filled in, validated)."""

    op: str
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.op not in OPERATIONS:
            raise SegDLError(
                f"Unknown preprocessing operation '{self.op}'. Known: {', '.join(OPERATIONS)}."
            )
        self.params = _validated(self.operation, self.params)

    @property
    def operation(self) -> Operation:
        return OPERATIONS[self.op]

    def to_dict(self) -> dict:
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in self.params.items()}
        return {"op": self.op, **{k: v for k, v in params.items() if v is not None}}


def _validated(op: Operation, params: dict) -> dict:
    known = {p.name: p for p in op.params}
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise SegDLError(
            f"'{op.name}' has no parameter {', '.join(map(repr, unknown))}; "
            f"it takes: {', '.join(known) or 'none'}."
        )
    values = {}
    for name, declared in known.items():
        value = params.get(name, declared.default)
        spec = declared.spec
        if value is None:
            values[name] = None
            continue
        try:
            value = tuple(int(v) for v in value) if spec.kind is tuple else spec.kind(value)
        except (TypeError, ValueError) as error:
            raise SegDLError(
                f"'{op.name}' {name} must be {spec.kind.__name__}; received {value!r}."
            ) from error
        numbers = value if isinstance(value, tuple) else (value,)
        if spec.kind is not bool and any(
            (spec.low is not None and v < spec.low)
            or (spec.high is not None and v > spec.high)
            or (isinstance(v, float) and not np.isfinite(v))
            for v in numbers
        ):
            raise SegDLError(
                f"'{op.name}' {name} must be between {spec.low} and {spec.high}; "
                f"received {value!r}."
            )
        values[name] = value
    if op.name == "resize" and (values["height"] is None) != (values["width"] is None):
        raise SegDLError("'resize' needs both height and width, or neither (then factor).")
    return values


@dataclass
class Recipe:
    """An ordered list of :class:`Step`; ``Recipe()`` is the empty recipe (no change)."""

    steps: list[Step] = field(default_factory=list)

    # ---- construction and JSON ----------------------------------------------------------

    @classmethod
    def coerce(cls, recipe) -> Recipe:
        """A Recipe from a Recipe, its dict, a list of step dicts, a JSON file path, or None."""
        if recipe is None:
            return cls()
        if isinstance(recipe, Recipe):
            return recipe
        if isinstance(recipe, (str, os.PathLike)):
            return cls.load(recipe)
        if isinstance(recipe, list):
            recipe = {RECIPE_KEY: RECIPE_VERSION, "steps": recipe}
        return cls.from_dict(recipe)

    @classmethod
    def from_dict(cls, spec: dict, source: str = "recipe") -> Recipe:
        if not isinstance(spec, dict) or not isinstance(spec.get("steps", []), list):
            raise SegDLError(
                f"{source} is not a napari-segdl recipe (expected {{'steps': [...]}})."
            )
        version = spec.get(RECIPE_KEY, RECIPE_VERSION)
        if not isinstance(version, int) or version > RECIPE_VERSION:
            raise SegDLError(
                f"{source} was written by a newer napari-segdl (recipe version {version}, this "
                f"version reads up to {RECIPE_VERSION}). Upgrade napari-segdl to use it."
            )
        steps = []
        for number, step in enumerate(spec.get("steps", []), start=1):
            if not isinstance(step, dict) or "op" not in step:
                raise SegDLError(f"{source}: step {number} has no 'op'.")
            params = {k: v for k, v in step.items() if k != "op"}
            try:
                steps.append(Step(step["op"], params))
            except SegDLError as error:
                raise SegDLError(f"{source}: step {number}: {error}") from error
        return cls(steps)

    def to_dict(self) -> dict:
        return {RECIPE_KEY: RECIPE_VERSION, "steps": [s.to_dict() for s in self.steps]}

    @classmethod
    def load(cls, path: str | os.PathLike) -> Recipe:
        path = Path(path)
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise SegDLError(f"Recipe file '{path}' does not exist.") from error
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise SegDLError(f"Recipe file '{path}' is not valid JSON: {error}.") from error
        return cls.from_dict(spec, source=f"Recipe file '{path}'")

    def save(self, path: str | os.PathLike) -> Path:
        """Write the recipe as JSON, atomically."""
        path = Path(path)
        with atomic_write(path, "the recipe") as temp:
            temp.write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")
        return path

    def __bool__(self) -> bool:
        return bool(self.steps)

    def geometric(self) -> Recipe:
        """Only the steps that apply to labels too (resize)."""
        return Recipe([s for s in self.steps if s.operation.geometric])


#: The metadata key of napari-segdl's provenance, in layers and in the files it writes.
METADATA_KEY = "napari_segdl"


def provenance(recipe, source: str | None = None) -> dict:
    """Metadata saying an image was made by ``recipe`` (from ``source``): a layer's or a file's."""
    record = {"recipe": Recipe.coerce(recipe).to_dict()}
    if source is not None:
        record["source"] = str(source)
    return {METADATA_KEY: record}


def recipe_of(metadata) -> dict | None:
    """The recipe that made an image, from its layer's or file's metadata, or None."""
    record = (metadata or {}).get(METADATA_KEY) or {}
    return record.get("recipe") if isinstance(record, dict) else None


def already_preprocessed(metadata, recipe) -> bool:
    """True when ``metadata`` says the image went through exactly ``recipe`` (a model's), so
    prediction must not apply it a second time."""
    recipe = Recipe.coerce(recipe or None)
    return bool(recipe) and recipe_of(metadata) == recipe.to_dict()
