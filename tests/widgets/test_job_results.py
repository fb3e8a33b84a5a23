"""Every dock job ends in one result type: completed with its value, cancelled, refused (bad
input) or died (the worker process ended), whatever order errors are caught in."""

import pytest

from napari_segdl import SegDLError
from napari_segdl._widgets._common import Ended, outcome, outcome_of
from napari_segdl._widgets._dock import Dock
from napari_segdl.core.worker.jobs import CANCELLED
from napari_segdl.core.worker.process import ChildDied


def _raise(error):
    raise error


def test_a_dead_worker_process_is_not_bad_input():
    assert not issubclass(ChildDied, SegDLError)
    assert outcome(_raise, ChildDied("The worker process was killed")).how == "died"
    assert outcome(_raise, SegDLError("Choose a layer")).how == "refused"


def test_each_way_a_job_ends_is_one_ended():
    assert outcome(lambda: 3) == Ended("completed", 3)
    assert outcome(lambda: CANCELLED) == Ended("cancelled")

    def job(error=None):
        yield "event"
        if error is not None:
            raise error
        return "value"

    for error, how in [
        (None, "completed"),
        (SegDLError("bad"), "refused"),
        (ChildDied("x"), "died"),
    ]:
        events = []
        generator = outcome_of(job(error))
        while True:
            try:
                events.append(next(generator))
            except StopIteration as finished:
                ended = finished.value
                break
        assert events == ["event"] and ended.how == how
        assert ended.error is error and (ended.value == "value") == (how == "completed")


def test_a_dock_routes_each_ending_to_its_place(make_napari_viewer):
    dock = Dock(make_napari_viewer())
    values = []
    dock.ended(Ended("completed", 7), values.append, "Failed.")
    assert values == [7]
    dock.ended(Ended("refused", error=SegDLError("Choose a layer.")), values.append, "No.")
    assert dock.status.value == "No." and values == [7]
    dock.ended(Ended("cancelled"), values.append, "Failed.")
    assert dock.status.value == "Cancelled."
    dock.ended(Ended("died", error=ChildDied("The process was killed")), None, "Failed.")
    assert dock.status.value.startswith("The process was killed; your layers are untouched.")
    with pytest.raises(TypeError, match="must return an Ended"):
        dock.ended("completed", None, "Failed.")
