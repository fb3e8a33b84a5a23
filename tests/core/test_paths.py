"""Atomic writes: the file appears whole or not at all, and no temporary file is left behind."""

import pytest

from napari_segdl.core.errors import SegDLError
from napari_segdl.core.paths import atomic_write


def test_atomic_write_replaces_the_file_when_the_block_ends(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old")
    with atomic_write(path) as temp:
        assert temp.parent == tmp_path and temp.suffix == ".json"
        temp.write_text("new")
        assert path.read_text() == "old"
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(path) as temp:
        temp.write_text("half")
        raise RuntimeError("writer failed")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_a_folder_written_in_place_of_the_temporary_is_removed_on_failure(tmp_path):
    path = tmp_path / "out.zarr"
    with pytest.raises(RuntimeError), atomic_write(path) as temp:
        temp.unlink()
        temp.mkdir()
        (temp / "chunk").write_text("x")
        raise RuntimeError("writer failed")
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_folder_is_a_clear_error(tmp_path):
    with (
        pytest.raises(SegDLError, match="Cannot write the model to"),
        atomic_write(tmp_path / "missing" / "m.keras", "the model"),
    ):
        pass


def test_a_written_file_gets_the_permissions_of_a_new_file(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "out.txt") as temp:
            temp.write_text("x")
    finally:
        os.umask(umask)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o644
