"""Where the simulator finds its files: the one documented root.

In a source checkout the root is the checkout itself (the folder holding `scenarios/`, `rubrics/`,
`schemas/` and `.streamlit/`). A wheel built with `pip install .` carries those folders inside the
package as `simulator/_data/`, found through `importlib.resources`. `SIMULATOR_HOME` overrides both
(a folder with the same layout). Nothing else in the core computes a path from `__file__`.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

_PACKAGE = Path(str(resources.files("simulator")))


def root() -> Path:
    """The folder holding `scenarios/`, `rubrics/` and `schemas/`."""
    configured = os.environ.get("SIMULATOR_HOME")
    if configured:
        return Path(configured).expanduser().resolve()
    packaged = _PACKAGE / "_data"
    if (packaged / "scenarios").is_dir():
        return packaged
    return _PACKAGE.parent


def in_checkout() -> bool:
    """True when running from a source checkout (not an installed wheel)."""
    return (_PACKAGE.parent / "pyproject.toml").is_file() and root() == _PACKAGE.parent


ROOT = root()
SCENARIOS_DIR = ROOT / "scenarios"
RUBRICS_DIR = ROOT / "rubrics"
SCHEMAS_DIR = ROOT / "schemas"
MIGRATIONS_DIR = _PACKAGE / "store" / "migrations"


def data_dir() -> Path:
    """Where the default SQLite file lives: `SIMULATOR_DATA_DIR`, else `data/` under the checkout
    (or under the working directory for an installed package)."""
    configured = os.environ.get("SIMULATOR_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    return (_PACKAGE.parent if in_checkout() else Path.cwd()) / "data"
