"""Preprocessing: pure operations, recipes that travel with the model, and applying them."""

from .apply import preprocess, restore
from .ops import OPERATIONS
from .recipe import RECIPE_KEY, RECIPE_VERSION, Recipe, Step

__all__ = ["OPERATIONS", "RECIPE_KEY", "RECIPE_VERSION", "Recipe", "Step", "preprocess", "restore"]
