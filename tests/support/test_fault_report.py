from pathlib import Path

from tests.support.fault_report import record_fault


def test_a_section_is_replaced_and_the_others_kept(tmp_path: Path) -> None:
    path = tmp_path / "faults.md"
    record_fault("worker-kill", "## kill\nlost 0\n", path)
    record_fault("broker-restart", "## broker\nlost 0\n", path)
    record_fault("worker-kill", "## kill\nlost 0, run 2\n", path)
    text = path.read_text()
    assert text.count("<!-- fault:worker-kill -->") == 1
    assert "run 2" in text and "## broker" in text
    assert text.index("broker-restart") < text.index("worker-kill")
