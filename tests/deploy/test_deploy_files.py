"""The deployment files: the image's locked install, the data directory, the compose stack."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement

from bench.image_python import IMAGE_PYTHON_ENV
from bot.datadir import check_data_directory, sqlite_directory
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ENTRYPOINT = DEPLOY / "docker-entrypoint.sh"
# compose-spec/compose-spec schema/compose-spec.json (Apache-2.0), commit 170098b.
COMPOSE_SCHEMA = Path(__file__).with_name("compose-spec.json")


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return data


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def _lock() -> dict[str, str]:
    """Package name → pinned version, asserting every entry carries hashes."""
    pins: dict[str, str] = {}
    entries = re.split(r"\n(?=\S)", (ROOT / "requirements.lock").read_text())
    for entry in entries:
        if not entry.strip() or entry.lstrip().startswith("#"):
            continue
        head = entry.split()[0]
        name, _, version = head.partition("==")
        assert version, f"{head} is not pinned with =="
        assert "--hash=sha256:" in entry, f"{head} has no hash"
        pins[name.lower().replace("_", "-")] = version
    return pins


def test_lock_pins_every_dependency_with_hashes() -> None:
    """requirements.lock pins, with hashes, every runtime, PostgreSQL, chart and build package."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = [
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["postgres"],
        *project["project"]["optional-dependencies"]["charts"],
        *project["build-system"]["requires"],
    ]
    pins = _lock()
    for spec in wanted:
        requirement = Requirement(spec)
        if requirement.marker is not None and not requirement.marker.evaluate(
            {"sys_platform": "linux", "python_version": "3.11"}
        ):
            continue
        name = requirement.name.lower().replace("_", "-")
        assert name in pins, f"{name} is missing from requirements.lock"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} breaks {spec}"


def test_dockerfile_installs_the_lock_before_the_source() -> None:
    """Dependencies come from the lock, hash-checked, in a layer built before the source."""
    steps = _dockerfile_instructions()
    lock_copy = next(
        i for i, (k, r) in enumerate(steps) if k == "COPY" and "requirements.lock" in r
    )
    lock_install = next(
        i for i, (k, r) in enumerate(steps) if k == "RUN" and "-r requirements.lock" in r
    )
    assert "--require-hashes" in steps[lock_install][1]
    first_source = next(
        i
        for i, (k, r) in enumerate(steps)
        if k == "COPY" and re.match(r"(bot|handlers|storage)\b", r)
    )
    assert lock_copy < lock_install < first_source
    app_install = next(
        i
        for i, (k, r) in enumerate(steps)
        if i > first_source and k == "RUN" and "pip install" in r
    )
    assert "--no-deps" in steps[app_install][1] and "--no-index" in steps[app_install][1]
    assert ("ENTRYPOINT", '["docker-entrypoint.sh"]') in steps
    copied = [r.split()[0] for k, r in steps if k == "COPY"]
    for source in copied:
        assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "deploy" not in ignored and "requirements.lock" not in ignored


def test_image_runs_python_as_the_benchmarks_measure_it() -> None:
    """Every Python in the image runs with the settings the benchmarks measure ``serve`` with
    (bench.image_python), set before anything is installed so pip compiles for them, and the
    build compiles the standard library for them too."""
    steps = _dockerfile_instructions()
    env: dict[str, str] = {}
    first_install = next(i for i, (k, r) in enumerate(steps) if k == "RUN" and "pip install" in r)
    for keyword, rest in steps[:first_install]:
        if keyword == "ENV":
            env.update(pair.split("=", 1) for pair in rest.split())
    for name, value in IMAGE_PYTHON_ENV.items():
        assert env.get(name) == value, f"the Dockerfile sets {name}={env.get(name)}"
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1"  # so bytecode must come from the build
    compiles = [i for i, (k, r) in enumerate(steps) if k == "RUN" and "-m compileall" in r]
    last_install = max(i for i, (k, r) in enumerate(steps) if k == "RUN" and "pip install" in r)
    assert compiles and compiles[-1] > last_install
    assert "/usr/local/lib/python3.11" in steps[compiles[-1]][1]  # stdlib + site-packages
    assert ("FROM", "python:3.11-slim") in steps


def test_compose_file_is_valid_compose() -> None:
    """deploy/compose.yaml validates against the Compose Specification's JSON schema."""
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)  # the draft the schema declares
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(_compose())]
    assert errors == []


def test_compose_runs_postgres_two_replicas_and_prometheus() -> None:
    """Two replicas of one image on PostgreSQL, migrated once beforehand, scraped by Prometheus."""
    services = _compose()["services"]
    replicas = {name: s for name, s in services.items() if s.get("image") == "streamops:latest"}
    replicas.pop("migrate")
    assert len(replicas) == 2
    assert services["postgres"]["image"].startswith("postgres:")
    assert "healthcheck" in services["postgres"]
    db_name = services["postgres"]["environment"]["POSTGRES_DB"]
    host_ports = []
    for replica in replicas.values():
        env = replica["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert f"@postgres:5432/{db_name}" in env["DATABASE_URL"]
        assert env["STREAMOPS_AUTO_MIGRATE"] == "false"  # the migrate job does it, once
        assert replica["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
        host_ports.append(replica["ports"][0].split(":")[0])
    assert len(set(host_ports)) == 2
    migrate = services["migrate"]
    assert migrate["command"] == ["streamops", "db", "upgrade"]
    assert (
        migrate["environment"]["DATABASE_URL"]
        == next(iter(replicas.values()))["environment"]["DATABASE_URL"]
    )

    prometheus = services["prometheus"]
    mounts = [v.split(":")[0] for v in prometheus["volumes"] if v.startswith("./")]
    for mount in mounts:
        assert (DEPLOY / mount).is_file(), f"{mount} is mounted but missing"
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = [
        target
        for job in config["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    ]
    assert sorted(targets) == sorted(f"{name}:3000" for name in replicas)
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    volumes = _compose()["volumes"]
    assert "postgres-data" in volumes and "prometheus-data" in volumes


def test_env_example_names_real_settings() -> None:
    """Every variable in streamops.env.example is one Settings reads."""
    from bot.settings import Settings

    aliases = {field.alias for field in Settings.model_fields.values()}
    for line in (DEPLOY / "streamops.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            assert line.split("=")[0] in aliases, line


# -- the data directory --------------------------------------------------------


def test_sqlite_directory_of_urls(tmp_path: Path) -> None:
    """The checked directory is the SQLite file's parent; other databases have none."""
    assert sqlite_directory(f"sqlite+aiosqlite:///{tmp_path}/x.db") == tmp_path.resolve()
    assert sqlite_directory("sqlite+aiosqlite:////data/streamops.db") == Path("/data")
    assert sqlite_directory("sqlite+aiosqlite://") is None
    assert sqlite_directory("postgresql+asyncpg://u@h/db") is None


def test_missing_data_directory_is_explained(tmp_path: Path) -> None:
    """A missing directory is named in one readable error."""
    with pytest.raises(ConfigError, match="does not exist"):
        check_data_directory(f"sqlite+aiosqlite:///{tmp_path}/nope/x.db")
    check_data_directory(f"sqlite+aiosqlite:///{tmp_path}/x.db")  # writable: passes


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A root-owned directory (0755) another user can enter (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="streamops-deploy-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def _as_nobody() -> list[str]:
    if os.getuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run as another user")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]


def test_entrypoint_explains_a_root_owned_bind_mount(shared_tmp: Path) -> None:
    """Run as a non-root user on a root-owned directory, the entrypoint says how to fix it."""
    prefix = _as_nobody()
    data = shared_tmp / "data"
    data.mkdir(mode=0o755)
    result = subprocess.run(
        [*prefix, "sh", str(ENTRYPOINT), "echo", "started"],
        env={
            "PATH": os.environ["PATH"],
            "STREAMOPS_DATA_DIR": str(data),
            "DATABASE_URL": f"sqlite+aiosqlite:///{data}/streamops.db",
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "started" not in result.stdout
    assert f"{data} is not writable by uid 65534" in result.stderr
    assert "chown -R 65534:65534" in result.stderr


def test_entrypoint_as_another_user_with_postgres_needs_no_directory(tmp_path: Path) -> None:
    """With PostgreSQL the data directory is not checked: the command runs."""
    prefix = _as_nobody()
    result = subprocess.run(
        [*prefix, "sh", str(ENTRYPOINT), "echo", "started"],
        env={
            "PATH": os.environ["PATH"],
            "STREAMOPS_DATA_DIR": str(tmp_path / "absent"),
            "DATABASE_URL": "postgresql+asyncpg://u@db/streamops",
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "started"


def test_entrypoint_as_root_fixes_the_owner_and_drops_privileges(tmp_path: Path) -> None:
    """Started as root on a root-owned mount, it gives the directory to the user and runs as it."""
    if os.getuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv")
    user = "daemon"  # exists with a same-named group on Debian, like streamops in the image
    data = tmp_path / "data"
    data.mkdir()
    (data / "streamops.db").write_text("")
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "id", "-un"],
        env={"PATH": os.environ["PATH"], "STREAMOPS_DATA_DIR": str(data), "STREAMOPS_USER": user},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == user
    import pwd

    uid = pwd.getpwnam(user).pw_uid
    assert data.stat().st_uid == uid
    assert (data / "streamops.db").stat().st_uid == uid


def test_serve_refuses_an_unwritable_data_directory_in_one_line(shared_tmp: Path) -> None:
    """`streamops serve` as a user who cannot write the SQLite directory exits 2 with the fix."""
    prefix = _as_nobody()
    data = shared_tmp / "data"
    data.mkdir(mode=0o755)
    import sys

    result = subprocess.run(
        [*prefix, sys.executable, "-m", "bot", "serve", "--port", "0"],
        env={
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT),
            "SLACK_BOT_TOKEN": "x",
            "SLACK_SIGNING_SECRET": "y",
            "DATABASE_URL": f"sqlite+aiosqlite:///{data}/streamops.db",
            "STREAMOPS_ENV": "development",  # no audit key needed for this check
        },
        cwd=shared_tmp,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert f"the database directory {data} is not writable by uid 65534" in result.stderr
    assert "Traceback" not in result.stderr
