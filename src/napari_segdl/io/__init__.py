"""Reading and writing image files (no napari, no Qt)."""
