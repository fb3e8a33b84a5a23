"""Preprocessing: pure operations, recipes that travel with the model, and applying them."""

from .apply import preprocess, restore
from .catalogue import OPERATIONS
from .recipe import (
    METADATA_KEY,
    RECIPE_KEY,
    RECIPE_VERSION,
    Recipe,
    Step,
    already_preprocessed,
    provenance,
    recipe_of,
)

__all__ = [
    "METADATA_KEY",
    "OPERATIONS",
    "RECIPE_KEY",
    "RECIPE_VERSION",
    "Recipe",
    "Step",
    "already_preprocessed",
    "preprocess",
    "provenance",
    "recipe_of",
    "restore",
]
