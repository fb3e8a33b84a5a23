"""The same prediction on a dask.distributed cluster of worker processes (loopback)."""

import dask.array as da
import numpy as np
import pytest

from helpers import make_blobs
from napari_segdl import predict
from napari_segdl.core.errors import SegDLError

distributed = pytest.importorskip("distributed")


@pytest.mark.slow
@pytest.mark.both_backends
def test_a_local_cluster_gives_the_local_result(trained_model):
    image = np.tile(make_blobs()[0], (2, 3)).clip(0, 255).astype(np.uint8)
    lazy = da.from_array(image, chunks=(96, 128))
    local = predict(trained_model, lazy, tile=128).compute()
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        remote = predict(trained_model, lazy, tile=128, scheduler=cluster.scheduler_address)
        address = cluster.scheduler_address
        onnx = predict(trained_model, lazy, tile=128, scheduler=address, engine="onnxruntime")
    assert isinstance(remote, np.ndarray)
    np.testing.assert_array_equal(remote, local)
    assert (onnx == local).mean() > 0.999  # the engine travels to the workers with the model


@pytest.mark.slow
def test_the_engine_travels_with_the_model_to_workers(trained_model):
    import pickle

    from napari_segdl.core.infer.chunks import ModelRef
    from napari_segdl.core.infer.runners import with_engine

    ref = pickle.loads(pickle.dumps(ModelRef(with_engine(trained_model, "onnxruntime"))))
    assert ref.get().engine == "onnxruntime"


@pytest.mark.slow
def test_an_unreachable_scheduler_is_a_clear_error(trained_model, blobs):
    with pytest.raises(
        SegDLError, match=r"Cannot reach the Dask scheduler at 'tcp://127\.0\.0\.1:9'"
    ):
        predict(trained_model, blobs[0], scheduler="tcp://127.0.0.1:9")
