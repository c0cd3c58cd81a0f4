"""Loading the model's data files: every parameter becomes a Figure with its source."""
from __future__ import annotations

import functools
import pathlib
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from harness.errors import UserError
from harness.figures import Figure

PACKAGE = pathlib.Path(__file__).resolve().parent.parent
DATA_DIR = PACKAGE / "data"
PLATFORM_DIR = PACKAGE / "platforms"
PARAMS_FILE = DATA_DIR / "model_params.toml"
CALIBRATION_FILE = DATA_DIR / "calibration.csv"


def _is_figure(d) -> bool:
    return isinstance(d, dict) and {"value", "source", "detail"} <= set(d)


def figures(d: dict, prefix: str = "") -> dict:
    """Turn every {value, unit, source, detail} table of a TOML tree into a Figure."""
    out = {}
    for k, v in d.items():
        name = f"{prefix}{k}"
        if _is_figure(v):
            doc = v.get("document", v["detail"]) if v["source"] == "spec" else None
            out[k] = Figure(name, v["value"], v.get("unit", ""), v["source"], v["detail"], document=doc)
        elif isinstance(v, dict):
            out[k] = figures(v, prefix=f"{name}.")
        else:
            out[k] = v
    return out


def read_toml(path: pathlib.Path) -> dict:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise UserError(f"model data file {path} is missing; reinstall the harness") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"model data file {path} is not valid TOML ({exc}); fix or restore it") from None


@functools.lru_cache(maxsize=None)
def params() -> dict:
    """The model parameters (harness/data/model_params.toml) as nested dicts of Figures."""
    return figures(read_toml(PARAMS_FILE))


def value(*path: str):
    """params()[a][b][c].value, e.g. value('memory', 'hbm', 'efficiency')."""
    node = params()
    for p in path:
        node = node[p]
    return node.value if isinstance(node, Figure) else node


def figure(*path: str) -> Figure:
    node = params()
    for p in path:
        node = node[p]
    return node


def version() -> str:
    return f"harness.model v{params()['version']}"


class Modeled:
    """Mixin for the prediction dataclasses: their dict form says they are model output."""

    def to_dict(self) -> dict:
        from dataclasses import asdict
        return {**asdict(self), "modeled": True}
