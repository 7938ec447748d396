"""environment.yml mirrors the exact pins of pyproject.toml (the source of truth)."""
import re
import tomllib

from .conftest import ROOT


def test_environment_yml_mirrors_pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = set(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        pins |= set(extra)
    env = set(re.findall(r"^\s+- ([A-Za-z0-9_.\-]+==[^\s]+)$", (ROOT / "environment.yml").read_text(), re.M))
    assert pins == env
    assert "torch==2.13.0" in pins  # never "+cpu", never a range (see README)
