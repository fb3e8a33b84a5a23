"""Compute core: numpy, scikit-image and Keras only. Never imports napari or Qt."""
