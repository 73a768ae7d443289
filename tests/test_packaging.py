"""Installed, Stockpot is one package: ``stockpot`` and nothing else in site-packages."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"core", "bot", "handlers", "migrations", "sandbox"}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_folder_is_listed_for_the_wheel():
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    on_disk = {"stockpot"} | {
        "stockpot." + ".".join(init.parent.relative_to(ROOT).parts)
        for folder in FOLDERS
        for init in (ROOT / folder).rglob("__init__.py")
    }
    assert listed == on_disk, "add new packages to [tool.setuptools] packages in pyproject.toml"


def test_the_wheel_holds_only_stockpot_and_the_migrations(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("stockpot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.startswith("stockpot-")}
    assert top == {"stockpot"}
    assert "stockpot/migrations/env.py" in names
    assert any(n.startswith("stockpot/migrations/versions/0001_") for n in names)
    assert "stockpot/migrations/script.py.mako" in names
    assert "stockpot/sandbox/demo/catalog.yaml" in names
    assert "stockpot/bot/templates/lightspeed_callback.html" in names
    assert not any(n.startswith(("stockpot/bench", "stockpot/tests")) for n in names)


def test_a_migrations_folder_in_the_working_directory_is_never_used(tmp_path):
    """Alembic finds its scripts through the installed package: another project's
    ``migrations`` or ``core`` in the working directory changes nothing."""
    for name in ("migrations", "core", "bot"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("raise SystemExit('wrong package')\n")
    database = tmp_path / "here.db"
    result = subprocess.run(
        [sys.executable, "-m", "stockpot", "db", "upgrade"],
        cwd=tmp_path,
        env={"DATABASE_URL": f"sqlite:///{database}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert database.exists()
