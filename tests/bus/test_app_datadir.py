"""faust's data directory: one per process, never shared by two workers or deployments on one machine."""

from pathlib import Path

from bus.app import create_app
from bus.config import OmnibusSettings


def test_two_workers_of_one_app_on_one_machine_get_their_own_directories() -> None:
    settings = OmnibusSettings()
    first, second = create_app("identity", settings), create_app("identity", settings)
    first_dir, second_dir = Path(str(first.conf.datadir)), Path(str(second.conf.datadir))
    assert first_dir != second_dir and first_dir.is_dir() and second_dir.is_dir()
    assert Path.cwd() not in first_dir.parents


def test_an_explicit_directory_is_kept(tmp_path: Path) -> None:
    app = create_app("identity", OmnibusSettings(), datadir=str(tmp_path))
    assert Path(str(app.conf.datadir)) == tmp_path
