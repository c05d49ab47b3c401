import os
import shutil
import tempfile

pytest_plugins = ["tests.fixtures.stack", "tests.fixtures.postgres", "tests.fixtures.hypothesis", "tests.fixtures.demo",
                  "tests.fixtures.held_logs", "tests.fixtures.xdist_groups"]

_STATE_HOME = tempfile.mkdtemp(prefix="omnibus-test-state-")


def pytest_configure() -> None:
    # adapters keep state under $XDG_STATE_HOME/omnibus by default (adapters.base.config.state_home): a test run
    # and the processes it starts must neither read nor leave a developer's or CI runner's real state
    os.environ["XDG_STATE_HOME"] = _STATE_HOME
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # a pytest-xdist worker (scripts/test.sh runs two) starts with COLUMNS=80 set, which the command line's
        # tables take as the user's terminal width (bus.cli.tables.report_console): run as a serial session does
        os.environ.pop("COLUMNS", None)
        os.environ.pop("LINES", None)


def pytest_unconfigure() -> None:
    shutil.rmtree(_STATE_HOME, ignore_errors=True)
