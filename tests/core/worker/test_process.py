"""The worker process: jobs, events, bad input, death, hangs, stop, and no orphan."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

import worker_jobs as jobs
from helpers import gone
from napari_segdl.core.errors import SegDLError
from napari_segdl.core.worker.process import ChildDied, ChildFailed, Silent, WorkerProcess


def drive(calling):
    """The events of a worker call and its value."""
    events = []
    while True:
        try:
            events.append(next(calling))
        except StopIteration as finished:
            return events, finished.value


@pytest.fixture
def worker():
    process = WorkerProcess()
    yield process
    process.close()


def test_events_and_result_come_back_and_the_child_is_reused(worker):
    events, pid = drive(worker.call(jobs.count, 3))
    assert events == [0, 1, 2]
    assert pid == worker.pid != os.getpid()
    assert drive(worker.call(jobs.count, 0)) == ([], pid)  # the same process, no new start


def test_bad_input_arrives_unchanged_and_a_bug_with_its_traceback(worker):
    with pytest.raises(SegDLError) as raised:
        drive(worker.call(jobs.bad_input, "labels layer 'x': nothing is painted"))
    assert str(raised.value) == "labels layer 'x': nothing is painted"
    with pytest.raises(ChildFailed, match="KeyError: 'missing key'"):
        drive(worker.call(jobs.bug))
    assert drive(worker.call(jobs.count, 1))[0] == [0]  # the child survives both


def test_what_cannot_travel_is_refused_before_the_child_sees_it(worker):
    with pytest.raises(Exception, match="pickle"):
        drive(worker.call(jobs.count, lambda: None))


def test_a_killed_child_is_reported_and_the_next_job_starts_a_new_one(worker):
    calling = worker.call(jobs.started_then_sleep, 60)
    pid = next(calling)
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(ChildDied, match=r"killed \(SIGKILL: out of memory"):
        drive(calling)
    assert gone(pid)
    _, new = drive(worker.call(jobs.count, 0))
    assert new != pid


def test_a_silent_child_is_reported_and_can_be_ended(worker):
    worker.hang_seconds = 0.5
    calling = worker.call(jobs.started_then_sleep, 60)
    pid = next(calling)
    os.kill(pid, signal.SIGSTOP)  # a real hang: the process runs no more
    assert isinstance(next(calling), Silent)
    worker.end()
    with pytest.raises(ChildDied, match="ended on request"):
        drive(calling)
    assert gone(pid)


def test_stop_and_items_reach_the_running_job(worker):
    calling = worker.call(jobs.until_stopped)
    assert next(calling) == "started"
    worker.request_stop()
    assert drive(calling)[1] >= 0
    calling = worker.call(jobs.echo_latest, "slice")
    assert next(calling) == "started"
    worker.send(("slice", 7))
    assert drive(calling)[1] == 7


def test_close_ends_the_child_and_a_running_job(worker):
    _, pid = drive(worker.call(jobs.count, 0))
    worker.close()
    assert gone(pid) and not worker.alive
    calling = worker.call(jobs.started_then_sleep, 60)
    pid = next(calling)
    worker.close()  # a job runs: the child is killed, the job says so
    with pytest.raises(ChildDied):
        drive(calling)
    assert gone(pid)


def test_the_child_ends_when_its_parent_is_killed(tmp_path):
    """A ``kill -9`` of the viewer's process: the child notices, removes its folder and ends.
    (The job's generator is kept: dropping it would end the child from the parent first.)"""
    script = textwrap.dedent(
        """
        import sys, time
        sys.path.insert(0, sys.argv[1])
        import worker_jobs
        from napari_segdl.core.worker.process import WorkerProcess

        if __name__ == "__main__":
            worker = WorkerProcess()
            calling = worker.call(worker_jobs.started_then_sleep, 600)
            print(next(calling), flush=True)
            time.sleep(600)
        """
    )
    path = tmp_path / "parent.py"
    path.write_text(script)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    tests = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    parent = subprocess.Popen(
        [sys.executable, str(path), tests],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(temporary)},
    )
    child = int(parent.stdout.readline())
    assert [p.name for p in temporary.glob("segdl-worker-*")], "the child has its folder"
    assert not gone(child, within=0.5), "the child ended while its parent lived"
    parent.kill()  # kill -9: no atexit, no cleanup in the parent
    parent.wait()
    assert gone(child), "the worker process outlived the process that started it"
    assert not list(temporary.glob("segdl-worker-*")), "the child's folder was left behind"


def test_a_job_nobody_waits_for_ends_with_its_child(worker):
    calling = worker.call(jobs.started_then_sleep, 60)
    pid = next(calling)
    calling.close()  # e.g. napari quit the thread worker that waited for it
    assert gone(pid)
    assert drive(worker.call(jobs.count, 1))[0] == [0]  # and the next job gets a new one


def test_a_native_crash_and_an_import_error_are_told_apart(worker):
    with pytest.raises(ChildDied, match=r"crashed in native code \(SIGSEGV\)"):
        drive(worker.call(jobs.segfault))
    with pytest.raises(ChildFailed, match="No module named 'napari_segdl_not_installed'"):
        drive(worker.call(jobs.broken_import))
    assert worker.alive


def test_a_stop_before_the_job_counts_and_is_spent_after_it(worker):
    worker.request_stop()  # e.g. Stop pressed while the run's data were being written
    calling = worker.call(jobs.until_stopped)
    assert next(calling) == "started"
    assert drive(calling)[1] == 0
    calling = worker.call(jobs.started_then_sleep, 0)
    next(calling)
    assert not worker._stop.is_set()
    drive(calling)


def test_a_dying_child_is_reported_with_what_it_wrote(worker):
    with pytest.raises(ChildDied, match=r"exit code 3\) \(it wrote: libcudart.so.12: cannot"):
        drive(worker.call(jobs.dies_saying, "libcudart.so.12: cannot open shared object file"))
    assert drive(worker.call(jobs.count, 1))[0] == [0]  # the next job gets a new child


def test_a_child_that_fails_before_it_is_ready_says_why(worker, tmp_path, monkeypatch):
    (tmp_path / "sitecustomize.py").write_text(  # a start that fails before any job
        "import os, sys\nsys.stderr.write('ImportError: broken install of something\\n')\n"
        "sys.stderr.flush()\nos._exit(5)\n"
    )
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    with pytest.raises(
        ChildDied,
        match=r"before it was ready \(exit code 5\) \(it wrote: ImportError: broken install of",
    ):
        drive(worker.call(jobs.count, 1))
    monkeypatch.undo()
    assert drive(worker.call(jobs.count, 1))[0] == [0]


def test_a_child_that_is_not_ready_in_time_is_ended():
    worker = WorkerProcess(ready_seconds=0.001)
    with pytest.raises(ChildDied, match=r"did not start within 0\.001 s and was ended"):
        drive(worker.call(jobs.count, 1))
    assert not worker.alive
    worker.ready_seconds = 60
    assert drive(worker.call(jobs.count, 1))[0] == [0]
    worker.close()


def test_the_childs_temporary_files_go_with_it(worker):
    _, folder = drive(worker.call(jobs.temporary_folder))
    assert os.path.basename(folder).startswith("segdl-worker-") and os.path.isdir(folder)
    worker.close()
    assert not os.path.exists(folder)
    _, killed = drive(worker.call(jobs.temporary_folder))
    calling = worker.call(jobs.started_then_sleep, 60)
    os.kill(next(calling), signal.SIGKILL)
    with pytest.raises(ChildDied):
        drive(calling)
    assert not os.path.exists(killed)


UNGUARDED = """
import sys
sys.path.insert(0, sys.argv[1])
import worker_jobs
from napari_segdl.core.worker.process import WorkerProcess

print("script ran", flush=True)
worker = WorkerProcess()
calling = worker.call(worker_jobs.count, 2)
print(list(calling), flush=True)
worker.close()
"""


def test_a_script_without_a_main_guard_is_not_run_again_in_the_child(tmp_path):
    path = tmp_path / "unguarded.py"
    path.write_text(UNGUARDED)
    tests = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    done = subprocess.run(
        [sys.executable, str(path), tests], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["script ran", "[0, 1]"]
