"""Configuration: one settings model read from wirecopy.toml ($WIRECOPY_CONFIG) and WIRECOPY_* (nested `__`);
a bad setting stops every entry point at start with one line naming it. Schedule specs. CLI start-up errors."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from wirecopy.deployments.serve import build_deployments, describe_schedule
from wirecopy.deployments.served import WIRECOPY, free_port

from tests.conftest import SEEDS
from wirecopy.config import ConfigError, ServerSettings, load_settings
from wirecopy.schedules import Schedule, parse_schedule


@pytest.fixture
def toml(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "custom.toml"
    path.write_text("", encoding="utf-8")  # a file named in WIRECOPY_CONFIG must exist
    monkeypatch.setenv("WIRECOPY_CONFIG", str(path))
    for name in [n for n in os.environ if n.startswith("WIRECOPY_") and n != "WIRECOPY_CONFIG"]:
        monkeypatch.delenv(name)
    return path


def test_toml_then_environment_then_flags(toml: Path, monkeypatch) -> None:
    toml.write_text(
        'db = "from-toml.duckdb"\nfeeds = ["https://a.example/rss"]\n'
        '[inbox]\ndir = "drop"\nsettle_seconds = 5\n[schedules]\ninbox = "*/5 * * * *"\n[dedup]\nnum_perm = 128\n',
        encoding="utf-8",
    )
    settings = load_settings()
    assert (settings.db, settings.inbox.dir, settings.inbox.settle_seconds) == (
        Path("from-toml.duckdb"),
        Path("drop"),
        5,
    )
    assert settings.schedules.parsed("inbox") == Schedule(cron="*/5 * * * *") and settings.dedup.num_perm == 128

    monkeypatch.setenv("WIRECOPY_INBOX__SETTLE_SECONDS", "0.5")
    monkeypatch.setenv("WIRECOPY_SCHEDULES__FEEDS", "off")
    monkeypatch.setenv("WIRECOPY_FEEDS", "https://b.example/feed.xml, https://c.example/atom")
    settings = load_settings(db=Path("flag.duckdb"))
    assert settings.db == Path("flag.duckdb") and settings.inbox.settle_seconds == 0.5
    assert settings.inbox.dir == Path("drop")  # the rest of [inbox] still comes from the file
    assert settings.feeds == ["https://b.example/feed.xml", "https://c.example/atom"]
    assert settings.schedules.parsed("feeds") is None and describe_schedule(settings, "feeds") == "no schedule"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*/15 * * * *", Schedule(cron="*/15 * * * *")),
        ("0 6,18 * * MON-FRI", Schedule(cron="0 6,18 * * mon-fri")),
        ("30s", Schedule(interval_seconds=30)),
        ("10m", Schedule(interval_seconds=600)),
        ("2h", Schedule(interval_seconds=7200)),
        ("90", Schedule(interval_seconds=90)),
        ("off", None),
        ("", None),
    ],
)
def test_schedule_specs(text: str, expected: Schedule | None) -> None:
    assert parse_schedule(text) == expected


@pytest.mark.parametrize(
    "text", ["*/61 * * * *", "0 24 * * *", "* * * *", "every hour", "0.5s", "0 0 32 * *", "x * * * *"]
)
def test_bad_schedule_specs(text: str) -> None:
    with pytest.raises(ValueError):
        parse_schedule(text)


def test_served_deployments_follow_the_configured_schedules(toml: Path, monkeypatch) -> None:
    monkeypatch.setenv("WIRECOPY_SCHEDULES__INBOX", "45s")
    monkeypatch.setenv("WIRECOPY_SCHEDULES__TIMEZONE", "Africa/Cairo")
    inbox, feeds, adhoc = build_deployments(load_settings())
    assert (inbox.name, feeds.name, adhoc.name) == ("ingest-inbox", "ingest-feeds", "ingest-adhoc")
    assert inbox.schedules[0].schedule.interval.total_seconds() == 45
    assert feeds.schedules[0].schedule.cron == "0 * * * *" and feeds.schedules[0].schedule.timezone == "Africa/Cairo"
    assert adhoc.schedules == [] and adhoc.entrypoint == "wirecopy.deployments.entrypoints.ingest_sources"
    schemas = [d._parameter_openapi_schema.model_dump(exclude_unset=True) for d in (inbox, feeds, adhoc)]
    assert [set(s["properties"]) for s in schemas] == [set(), set(), {"sources"}]
    assert all(s["additionalProperties"] is False for s in schemas)
    assert not inbox.paused and not feeds.paused


BAD = [
    ({"WIRECOPY_INBOX__SETTLE_SECONDS": "-1"}, "inbox.settle_seconds"),
    ({"WIRECOPY_SCHEDULES__INBOX": "every 5 minutes"}, "schedules.inbox"),
    ({"WIRECOPY_SCHEDULES__TIMEZONE": "Mars/Olympus"}, "schedules.timezone"),
    ({"WIRECOPY_FEEDS": "ftp://example.org/feed"}, "feeds"),
    ({"WIRECOPY_SERVER__HOST": "0.0.0.0"}, "server.host"),
    ({"WIRECOPY_SERVER__PORT": "http"}, "server.port"),
    ({"WIRECOPY_DEDUP__BANDS": "64"}, "dedup"),
    ({"WIRECOPY_LOCK_WAIT_SECONDS": "0"}, "lock_wait_seconds"),
]


@pytest.mark.parametrize(("env", "setting"), BAD)
def test_bad_setting_is_one_line_naming_it(toml: Path, env: dict, setting: str, monkeypatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=rf"^invalid configuration: {setting}"):
        load_settings()


def test_a_variable_naming_no_setting_is_an_error_not_ignored(toml: Path, monkeypatch) -> None:
    monkeypatch.setenv("WIRECOPY_SCHEDULE__INBOX", "5m")  # SCHEDULES: the schedule would stay as it was
    named = r"WIRECOPY_SCHEDULE__INBOX names no setting \(did you mean WIRECOPY_SCHEDULES"
    with pytest.raises(ConfigError, match=named):
        load_settings()
    monkeypatch.delenv("WIRECOPY_SCHEDULE__INBOX")
    monkeypatch.setenv("WIRECOPY_SCHEDULES__INBOX", "5m")
    monkeypatch.setenv("WIRECOPY_CACHE_DIR", str(toml.parent))  # not a setting, but wirecopy's own
    assert load_settings().schedules.inbox == "5m"


def test_bad_toml_key_and_syntax_name_the_setting_or_file(toml: Path) -> None:
    toml.write_text("[inbox]\nsettle = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"inbox\.settle: Extra inputs are not permitted"):
        load_settings()
    toml.write_text("db = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"cannot read configuration .*{toml.name}"):
        load_settings()


def test_a_configuration_file_named_but_missing_stops_the_command(tmp_path: Path) -> None:
    """A mistyped $WIRECOPY_CONFIG is an error naming it; set empty, no file is read (defaults and WIRECOPY_*)."""
    missing = tmp_path / "wirecopy-typo.toml"
    result = run_cli("config", env={"WIRECOPY_CONFIG": str(missing)})
    assert result.returncode == 1 and result.stdout == ""
    advice = "(unset it to read ./wirecopy.toml, or set it empty to read no file)"
    assert result.stderr == f"error: WIRECOPY_CONFIG={missing} does not exist {advice}\n"
    for empty in ("", os.devnull):  # no file, or one that reads empty
        result = run_cli("config", env={"WIRECOPY_CONFIG": empty, "WIRECOPY_DB": str(tmp_path / "w.duckdb")})
        assert result.returncode == 0 and str(tmp_path / "w.duckdb") in result.stdout


def test_config_prints_the_compute_values_a_run_takes(tmp_path: Path) -> None:
    """Workers and queue left to their defaults show what a run on this machine uses; set ones show as set."""
    env = {"WIRECOPY_CONFIG": "", "WIRECOPY_DB": str(tmp_path / "w.duckdb")}
    shown = json.loads(run_cli("config", env=env).stdout)["compute"]
    assert shown["workers"] == max(1, (os.cpu_count() or 1) - 1) and shown["queue_batches"] == shown["workers"] + 1
    shown = json.loads(run_cli("config", env=env | {"WIRECOPY_COMPUTE__WORKERS": "3"}).stdout)["compute"]
    assert (shown["workers"], shown["queue_batches"]) == (3, 4)
    remote = env | {"WIRECOPY_COMPUTE__ENGINE": "dask", "WIRECOPY_COMPUTE__ADDRESS": "tcp://10.0.0.9:8786"}
    shown = json.loads(run_cli("config", env=remote).stdout)["compute"]
    assert shown["workers"] is None and shown["address"] == "tcp://10.0.0.9:8786"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([WIRECOPY, *args], capture_output=True, text=True, env=os.environ | (env or {}), timeout=120)


@pytest.mark.parametrize("command", [["config"], ["server"], ["inbox"], ["sql", "SELECT 1"], ["ingest", str(SEEDS)]])
def test_every_entry_point_stops_at_start_on_bad_configuration(command: list[str]) -> None:
    result = run_cli(*command, env={"WIRECOPY_SCHEDULES__INBOX": "*/99 * * * *"})
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: invalid configuration: schedules.inbox")


def test_serve_module_stops_at_start_on_bad_configuration() -> None:
    bad = os.environ | {"WIRECOPY_INBOX__MAX_FILES": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "wirecopy.deployments.serve"], capture_output=True, text=True, env=bad, timeout=120
    )
    assert result.returncode == 2 and result.stderr.startswith("error: invalid configuration: inbox.max_files")


def test_remote_ingest_without_a_server_says_how_to_start_one(seeds_dir: Path) -> None:
    port = free_port()
    result = run_cli("ingest", "--remote", str(seeds_dir), env={"WIRECOPY_SERVER__PORT": str(port)})
    assert result.returncode == 1
    assert (
        f"no Prefect server answers at http://127.0.0.1:{port}/api" in result.stderr
        and "wirecopy server" in result.stderr
    )


def test_server_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("server", "--port", str(port), env={"PREFECT_HOME": str(tmp_path / ".prefect")})
    assert result.returncode == 1 and f"127.0.0.1:{port} is already in use" in result.stderr
    assert not (tmp_path / ".prefect" / "prefect.db").exists()


def test_memory_pool_must_hold_the_largest_transaction(monkeypatch) -> None:
    from wirecopy.config import ConfigError, load_settings

    monkeypatch.setenv("WIRECOPY_MAX_FILE_BYTES", "50000000")
    with pytest.raises(ConfigError, match=r"ingest_memory_limit = '48MB' cannot hold .* at least '75MB'"):
        load_settings()
    monkeypatch.setenv("WIRECOPY_INGEST_MEMORY_LIMIT", "80MB")
    assert load_settings().max_file_bytes == 50_000_000


@pytest.mark.parametrize(("value", "ok"), [("0600", True), ("640", True), ("0644", True), ("0755", False),
                                           ("0400", False), ("rw-r-----", False)])  # fmt: skip
def test_file_mode_setting(monkeypatch, value: str, ok: bool) -> None:
    from wirecopy.config import ConfigError, load_settings

    monkeypatch.setenv("WIRECOPY_FILE_MODE", value)
    if ok:
        assert load_settings().file_mode_bits == int(value, 8)
    else:
        with pytest.raises(ConfigError, match="file_mode"):
            load_settings()


def test_warehouse_files_are_private_or_group_readable(prefect_harness, seeds_dir, tmp_path, monkeypatch) -> None:
    from wirecopy.flows.ingest import ingest
    from wirecopy.warehouse.snapshot import writer_directory, writer_path

    db = tmp_path / "warehouse.duckdb"
    ingest(sources=[str(seeds_dir)], db=str(db))
    assert oct(db.stat().st_mode & 0o777) == "0o600"
    assert oct(writer_directory(db).stat().st_mode & 0o777) == "0o700"
    assert oct(writer_path(db).stat().st_mode & 0o777) == "0o600"
    monkeypatch.setenv("WIRECOPY_FILE_MODE", "0640")
    shared = tmp_path / "shared.duckdb"
    ingest(sources=[str(seeds_dir)], db=str(shared))
    assert oct(shared.stat().st_mode & 0o777) == "0o640"
    assert oct(writer_directory(shared).stat().st_mode & 0o777) == "0o750"


def test_server_keeps_runs_for_keep_runs_days_unless_prefect_is_told_otherwise() -> None:
    from wirecopy.server import lease_env, retention_env

    assert retention_env(30, {}) == {
        "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED": "events,flow_runs",
        "PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD": str(30 * 86400),
    }
    assert retention_env(0, {}) == {}  # keep every run: Prefect's own default
    assert retention_env(30, {"PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD": "3600"}) == {}
    filesystem = "prefect.server.concurrency.lease_storage.filesystem"
    assert lease_env({}) == {"PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": filesystem}
    assert lease_env({"PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "mine"}) == {}
    with pytest.raises(ValidationError, match="at least an hour"):
        ServerSettings(keep_runs_days=0.01)
