"""`pip install .` (not editable) gives a `migration-assistant serve` that works away from the checkout: the wheel
carries every module, migration, template and data file the server needs, and the installed command runs its
release (migrate, collectstatic) and servers as modules, writing nothing beside its code.

The wheel is built by pip as a user would build it: in build isolation, which installs the build backend
(setuptools, pyproject.toml's `[build-system]`) from the package index pip is configured with. It is installed
without its dependencies into a throwaway venv that reuses this venv's site-packages (a .pth line), so the test
needs no download of the project's dependencies and no install into the shared venv.
"""
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

from config.serve.production import nginx_executable
from tests.servers import ROOT, ServerProcess
from tests.workers import subprocess_database_url

#: What `pip install .` reads from the checkout (pyproject.toml and what it names); nothing else is copied.
PACKAGING_INPUTS = ("pyproject.toml", "requirements.txt", "README.md", "LICENSE", "apps", "config", "templates")


def build_wheel(destination: Path) -> Path:
    """`pip wheel --no-deps .` over a copy of the packaging inputs (an in-tree build would leave build/ and
    tessera.egg-info/ in the checkout)."""
    source = destination / "source"
    source.mkdir()
    for name in PACKAGING_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
                            str(destination / "dist"), str(source)], capture_output=True, text=True, timeout=300,
                           check=False)
    assert built.returncode == 0, f"pip wheel failed:\n{built.stdout[-3000:]}\n{built.stderr[-3000:]}"
    [wheel] = (destination / "dist").glob("tessera-*.whl")
    return wheel


def install(wheel: Path, prefix: Path) -> Path:
    """A venv at `prefix` that sees this venv's packages, with the wheel installed in it; its bin/."""
    venv.create(prefix, with_pip=False)
    site_packages = Path(sysconfig.get_path("purelib", vars={"base": str(prefix), "platbase": str(prefix)}))
    (site_packages / "shared-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    python = prefix / "bin" / "python"
    installed = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                                str(wheel)], capture_output=True, text=True, timeout=120, check=False)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return prefix / "bin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("package")
    wheel = build_wheel(work)
    return {"wheel": wheel, "bin": install(wheel, work / "venv"), "work": work}


def test_the_wheel_carries_templates_migrations_and_data_files_but_no_checkout_files(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())

    assert {"templates/drf_spectacular/redoc.html", "templates/jobs/watch.html",
            "templates/admin/jobs/job/change_form.html", "config/serve/nginx.conf.template",
            "config/__main__.py", "apps/migrations_app/presets/builtin.json",
            "apps/migrations_app/migrations/0001_initial.py"} <= names
    assert not {"manage.py", "pytest.ini"} & names and not any(name.startswith("tests/") for name in names)


@pytest.mark.django_db(transaction=True)
def test_the_installed_migration_assistant_serves_away_from_the_checkout(installed, tmp_path):
    if not nginx_executable() and not os.environ.get("TESSERA_REQUIRE_SERVICES"):
        pytest.skip("nginx is not installed (`make serve` installs Debian's package; CI requires it).")
    data_dir = tmp_path / "data"
    environment = {"DATABASE_URL": subprocess_database_url(), "SECRET_KEY": settings.SECRET_KEY,
                   "REDIS_URL": settings.REDIS_URL, "TESSERA_DATA_DIR": str(data_dir),
                   # The checkout must not be importable (only the installed package is), nor its test app installed.
                   "PYTHONPATH": None, "EXTRA_INSTALLED_APPS": None,
                   "PATH": f"{installed['bin']}{os.pathsep}{os.environ['PATH']}"}
    server = ServerProcess(environment, command=[str(installed["bin"] / "migration-assistant"), "serve"],
                           cwd=tmp_path, start_timeout=120, stop_timeout=60,
                           options=("--host", "127.0.0.1", "--workers", "1", "--no-worker"))
    try:
        health, headers, _ = server.request("GET", "/health")
        redoc, _, page = server.request("GET", "/api/redoc/")
    finally:
        server.stop()
    log = server.log()
    server.remove_log()

    assert health == 200 and headers["Server"] == "nginx", log[-2000:]
    # The project's own ReDoc template (templates/), which drops the web fonts, came with the package.
    assert redoc == 200 and b"redoc" in page.lower() and b"fonts.googleapis.com" not in page
    assert (data_dir / "staticfiles" / "admin").is_dir()  # collectstatic ran, into DATA_DIR
    site_packages = next((installed["work"] / "venv" / "lib").glob("python*/site-packages"))
    assert not (site_packages / "staticfiles").exists() and not (site_packages / "db.sqlite3").exists()
    assert str(ROOT) not in log
