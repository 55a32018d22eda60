"""pyproject.toml is the one source of pins; environment.yml must agree with it."""

from __future__ import annotations

import re
import tomllib

import yaml

from autograder.settings import REPO_ROOT

PIN = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(==|=)\s*([^\s;#]+)")


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"]) + project["optional-dependencies"]["cpu"] \
        + project["optional-dependencies"]["test"]
    return {m.group(1).lower(): m.group(3) for m in map(PIN.match, specs) if m}


def environment_pins() -> dict[str, str]:
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    specs: list[str] = []
    for dep in env["dependencies"]:
        specs += dep["pip"] if isinstance(dep, dict) else [dep]
    return {m.group(1).lower(): m.group(3) for m in map(PIN.match, specs) if m}


def test_every_pin_is_exact() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    for spec in project["dependencies"] + sum(project["optional-dependencies"].values(), []):
        assert "==" in spec, f"{spec!r} is not pinned with =="


def test_environment_yml_lists_the_same_packages_and_versions_as_pyproject() -> None:
    env, pins = environment_pins(), pyproject_pins()
    assert {k: env.get(k) for k in pins} == pins
    unknown = set(env) - set(pins) - {"python", "pip"}
    assert not unknown, f"environment.yml pins packages pyproject.toml does not: {sorted(unknown)}"


def test_environment_yml_explains_each_pin() -> None:
    for line in (REPO_ROOT / "environment.yml").read_text().splitlines():
        if PIN.match(line.lstrip(" -")):
            assert "#" in line, f"pin without a comment saying why: {line.strip()}"
