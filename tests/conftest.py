"""Shared fixtures: the real-data folder, a test key, stores on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from hypothesis import HealthCheck, settings

# CI runs property tests derandomised (the examples follow from each test's code, so a red CI is a
# real defect, reproducible by anyone with MICROSEG_CI=1), without a stored example database (a fresh
# clone has none), and prints the blob that replays a failure (@reproduce_failure).
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
if os.environ.get("MICROSEG_CI") == "1":
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
PG_BASE = os.environ.get("MICROSEG_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def shared_file(name: str) -> Path:
    """A file of ../shared/data, or skip: a user's clone has no ../shared."""
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"real data not available: {path} (only CI and the project's machines have ../shared)")
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` first (stable otherwise): with ``-n 2`` no worker is left starting a
    minute-long test while the other has nothing left to do."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _test_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICROSEG_KEY", "test-key-0123456789abcdef")
    monkeypatch.delenv("MICROSEG_DATABASE_URL", raising=False)


@pytest.fixture(scope="session")
def _demo_once(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``microseg demo --customers 3000`` (in process, with the test key) once per test session: it
    trains every model (~30 s). Under xdist the workers share one run through a lock file in the
    session's temporary root; the folder and what the demo printed are kept there."""
    try:
        import fcntl
    except ImportError:                                       # Windows: each process runs its own demo
        fcntl = None
    shared = fcntl is not None and hasattr(request.config, "workerinput")    # an xdist worker
    root = tmp_path_factory.getbasetemp().parent if shared else tmp_path_factory.mktemp("demo-once")
    out, printed = root / "demo-once" / "demo", root / "demo-once" / "printed.txt"
    (root / "demo-once").mkdir(exist_ok=True)
    with open(root / "demo-once" / "lock", "w") as lock:
        if shared:
            fcntl.flock(lock, fcntl.LOCK_EX)                   # released when the file closes
        if not printed.is_file():
            from click.testing import CliRunner

            from microseg.cli import cli
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("MICROSEG_KEY", "test-key-0123456789abcdef")
                mp.delenv("MICROSEG_DATABASE_URL", raising=False)
                result = CliRunner().invoke(cli, ["demo", "--out", str(out), "--customers", "3000"],
                                            catch_exceptions=False)
            assert result.exit_code == 0, result.output
            printed.write_text(result.output, encoding="utf-8")
    return out, printed.read_text(encoding="utf-8")


@pytest.fixture
def demo_run(_demo_once: tuple[Path, str], tmp_path: Path) -> tuple[Path, str]:
    """This test's own copy of the demo folder (data, config, store, report) and what the demo
    printed: a test's exports and audit reads change nothing another test sees."""
    folder, output = _demo_once
    copy = tmp_path / "demo"
    shutil.copytree(folder, copy)
    return copy, output


@pytest.fixture
def registry():
    from microseg.registry import Registry
    return Registry(entry_points=False)


def _pg_available() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install microseg[postgres])"
    try:
        psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", connect_timeout=2).close()
    except Exception as exc:  # noqa: BLE001
        return f"no PostgreSQL server answers on 127.0.0.1:5432 (database test): {type(exc).__name__}"
    return None


@pytest.fixture
def pg_url():
    """A fresh schema in the local PostgreSQL test database, dropped afterwards."""
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    import psycopg
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as con:
            con.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")
