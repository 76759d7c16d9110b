"""The `tessera` console script that `pip install -e .` provides is manage.py under one name."""
import sys
import tomllib

from config.cli import main
from tests.servers import ROOT


def test_pyproject_installs_the_tessera_command():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"tessera": "config.cli:main"}
    assert project["dynamic"] == ["dependencies"]  # read from requirements.txt, the one list


def test_the_tessera_command_runs_manage_py_commands(monkeypatch, capsys, db):
    monkeypatch.setattr(sys, "argv", ["tessera", "check"])

    main()

    assert "System check identified no issues" in capsys.readouterr().out
