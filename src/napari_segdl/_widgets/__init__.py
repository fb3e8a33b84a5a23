"""Thin napari dock widgets: collect parameters, start a worker, turn results into layers."""
