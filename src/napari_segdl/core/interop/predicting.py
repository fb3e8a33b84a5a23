"""The public ``predict``: a napari-segdl model (:mod:`napari_segdl.core.infer`), or a BioImage
Model Zoo package run with its own pre- and postprocessing (``bioimageio.core``)."""

from __future__ import annotations

from ..infer.options import PredictOptions
from ..infer.predict import predict as predict_segdl


def predict(model, image, options: PredictOptions | None = None, **keywords):
    """Segment an image or a stack with a trained model, or with a Model Zoo package.

    ``model`` is what :func:`napari_segdl.core.infer.predict.predict` takes (a model, a saved
    bundle, a bundled model's name), or a BioImage Model Zoo package (``.zip`` or
    ``rdf.yaml``, or one loaded by ``load_zoo_model``): its labels when its output is class
    probabilities or a mask, else (and with ``probabilities``) its first output. The other
    arguments are those of :func:`napari_segdl.core.infer.predict.predict`; a package uses
    ``probabilities``, ``allow_code`` and ``name`` of them.
    """
    from .zoo import ZooModel, is_zoo_package

    if not (isinstance(model, ZooModel) or is_zoo_package(model)):
        return predict_segdl(model, image, options, **keywords)
    name = keywords.pop("name", "image")
    keywords.pop("on_tile", None)
    keywords.pop("preprocess", None)
    options = PredictOptions.of(options, **keywords)
    return _predict_zoo(model, image, options.probabilities, name, options.allow_code)


def _predict_zoo(model, image, probabilities: bool, name: str, allow_code: bool):
    """A Model Zoo package on one image: its labels, or its first output."""
    from .zoo import ZooModel, labels_from_outputs, load_zoo_model, predict_zoo

    if not isinstance(model, ZooModel):
        model = load_zoo_model(model, allow_code=allow_code)
    outputs = predict_zoo(model, image, name)
    labels = None if probabilities else labels_from_outputs(model, outputs)
    return labels if labels is not None else next(iter(outputs.values()))
