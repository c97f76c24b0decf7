"""export writes its files through a thread of its own (export/pg/yamlfile.py Files): every
file it was given is on disk once the block is left, with the text given, and a file it could
not write is an error raised, never one dropped."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from reconciler.export.pg.yamlfile import Files


def test_every_file_is_written_by_the_time_the_block_is_left(tmp_path: Path):
    with Files() as files:
        for i in range(300):
            files.dump(tmp_path / f"part{i % 3}" / f"t{i}.yaml", {"table": f"t{i}", "n": str(i)})
    assert len(files.written) == 300
    for i in range(300):
        text = (tmp_path / f"part{i % 3}" / f"t{i}.yaml").read_text(encoding="utf-8")
        assert text == f"table: t{i}\nn: '{i}'\n"


def test_a_file_that_cannot_be_written_is_raised_and_stops_the_writing(tmp_path: Path):
    (tmp_path / "t1.yaml").mkdir()  # a folder where the file should go: open() fails
    with pytest.raises(IsADirectoryError) as info, Files() as files:
        files.dump(tmp_path / "t0.yaml", {"table": "t0"})
        files.dump(tmp_path / "t1.yaml", {"table": "t1"})
    assert info.value.filename == os.fspath(tmp_path / "t1.yaml")


@pytest.mark.parametrize("fails", [False, True], ids=["done", "failed"])
def test_no_writer_is_left_running_once_the_block_is_left(tmp_path: Path, fails: bool):
    # export removes its staging folder right after: nothing may still be writing into it
    try:
        with Files() as files:
            for i in range(200):
                files.dump(tmp_path / f"t{i}.yaml", {"table": f"t{i}"})
            if fails:
                raise RuntimeError("the export failed")
    except RuntimeError:
        assert fails
    assert not [t for t in threading.enumerate() if t.name == "reconciler-export-files"]
    written = sorted(tmp_path.iterdir())
    assert len(written) == 200 or (fails and len(written) <= 200)
