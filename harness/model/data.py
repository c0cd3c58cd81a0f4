"""Loading the model's data files: every parameter becomes a Figure with its source.

The parameters are harness/data/model_params.toml, optionally overlaid by a parameter file
(`--params FILE`, e.g. one `harness predict --fit` wrote): `use_params(path)` is the one switch
every caller goes through (predict, the emulator, the roofline), so a run, a prediction and a
roofline made with a file all see the same values, and `params_file()` says which file that was.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import pathlib
import re
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from harness.errors import UserError
from harness.figures import SOURCES, Figure

PACKAGE = pathlib.Path(__file__).resolve().parent.parent
DATA_DIR = PACKAGE / "data"
PLATFORM_DIR = PACKAGE / "platforms"
PARAMS_FILE = DATA_DIR / "model_params.toml"
CALIBRATION_FILE = DATA_DIR / "calibration.csv"
# Tables of a parameter file that are not parameters: [fit] says where the values came from.
META_TABLES = ("fit",)
# Parts of model_params.toml a parameter file may not replace (design descriptions, not parameters).
FIXED_TABLES = ("reference_designs",)
# Keys a parameter file may add, checked as the parameter they stand in for: a transfer direction's
# own latency and bandwidth (harness.model.transfer takes them before the shared ones).
OPTIONAL = {("pcie", f"{d}_{k}"): ("pcie", k) for d in ("h2d", "d2h") for k in ("latency_s", "bandwidth_GBps")}

_overlay: dict | None = None      # {"path", "sha256", "tree"} of the --params file in use
_trial: dict | None = None        # the fit's candidate values: params() returns this tree while set


def _is_figure(d) -> bool:
    return isinstance(d, dict) and {"value", "source", "detail"} <= set(d)


def figures(d: dict, prefix: str = "") -> dict:
    """Turn every {value, unit, source, detail} table of a TOML tree into a Figure."""
    out = {}
    for k, v in d.items():
        name = f"{prefix}{k}"
        if _is_figure(v):
            doc = v.get("document", v["detail"]) if v["source"] == "spec" else None
            runs = v.get("run_ids")
            out[k] = Figure(name, v["value"], v.get("unit", ""), v["source"], v["detail"], document=doc,
                            run_id=", ".join(runs) if runs else None)
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
def _defaults_raw() -> dict:
    return read_toml(PARAMS_FILE)


def _merge(base: dict, top: dict) -> dict:
    out = dict(base)
    for k, v in top.items():
        out[k] = _merge(base[k], v) if isinstance(v, dict) and not _is_figure(v) else v
    return out


@functools.lru_cache(maxsize=None)
def _params() -> dict:
    raw = _defaults_raw()
    if _overlay is not None:
        raw = _merge(raw, _overlay["tree"])
    return figures(raw)


def params() -> dict:
    """The model parameters (harness/data/model_params.toml, overlaid by the --params file in use)
    as nested dicts of Figures."""
    return _trial if _trial is not None else _params()


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


def base_version() -> str:
    return f"harness.model v{_defaults_raw()['version']}"


def version() -> str:
    """The model's version, and the parameter file it runs with when not the defaults."""
    if _overlay is None:
        return base_version()
    return f"{base_version()} with {_overlay['path']} (sha256 {_overlay['sha256'][:12]})"


# ---------------------------------------------------------------- parameter files (--params)
def _sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _leaves(tree: dict, prefix: tuple = ()):
    for k, v in tree.items():
        if _is_figure(v) or not isinstance(v, dict):
            yield prefix + (k,), v
        else:
            yield from _leaves(v, prefix + (k,))


def read_params_file(path) -> dict:
    """Read and check a parameter file: every entry replaces an existing scalar parameter of
    model_params.toml, in its unit, with a source and a value the model can run with. One line
    naming the file and the entry otherwise."""
    p = pathlib.Path(path)
    fix = "fix it, or write a new one with `harness predict --fit RUN_DIR ...`"
    try:
        with open(p, "rb") as f:
            tree = tomllib.load(f)
    except FileNotFoundError:
        raise UserError(f"--params {p}: no such file; give a parameter file `harness predict --fit` wrote") from None
    except IsADirectoryError:
        raise UserError(f"--params {p} is a directory; give a parameter file (.toml)") from None
    except OSError as exc:
        raise UserError(f"--params {p}: cannot read it ({exc.strerror}); check its permissions") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"--params {p} is not valid TOML ({first}); {fix}") from None
    defaults = _defaults_raw()
    fit = tree.get("fit")
    if fit is not None:
        if not isinstance(fit, dict):
            raise UserError(f"--params {p}: fit must be a table ([fit]); {fix}")
        made = fit.get("model_version")
        if made is None:   # the fit's provenance without the model it was fitted with cannot be checked
            raise UserError(f"--params {p}: [fit] has no model_version, so the model it was fitted with is "
                            "unknown; refit it with `harness predict --fit` on the same runs")
        if made != base_version():
            raise UserError(f"--params {p} was fitted with {made}, this harness runs {base_version()}; "
                            "refit it with `harness predict --fit` on the same runs")
    values = {k: v for k, v in tree.items() if k not in META_TABLES}
    if "version" in values:
        raise UserError(f"--params {p}: `version` is the model's own, not a parameter; remove it")
    n = 0
    for path_, v in _leaves(values):
        name = ".".join(path_)
        node = defaults
        for part in (path_ if _lookup(defaults, path_) is not None else OPTIONAL.get(path_, path_)):
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                break
        if node is None or path_[0] in FIXED_TABLES or not _is_figure(node):
            raise UserError(f"--params {p}: {name} is not a parameter of the model (harness/data/model_params.toml); "
                            f"{fix}")
        if not _is_figure(v):
            raise UserError(f"--params {p}: {name} must be a table {{ value, unit, source, detail }}; {fix}")
        dv, x = node["value"], v["value"]
        if isinstance(dv, list) or isinstance(dv, bool):
            raise UserError(f"--params {p}: {name} cannot be set from a parameter file (it is a fixed list); remove it")
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or x < 0:
            raise UserError(f"--params {p}: {name} = {x!r} is not a finite number of at least 0; {fix}")
        if dv > 0 and x == 0:
            raise UserError(f"--params {p}: {name} = 0, but the model divides by it; {fix}")
        if name.endswith("efficiency") and x > 1:
            raise UserError(f"--params {p}: {name} = {x:g} is an efficiency above 1; {fix}")
        if v.get("unit", "") != node.get("unit", ""):
            raise UserError(f"--params {p}: {name} is in {v.get('unit', '')!r} but the model's is in "
                            f"{node.get('unit', '')!r}; convert it")
        if v["source"] not in SOURCES:
            raise UserError(f"--params {p}: {name} has source {v['source']!r}, not one of {', '.join(SOURCES)}; {fix}")
        if v["source"] == "measured":
            runs = v.get("run_ids")
            if not (isinstance(runs, list) and runs and all(isinstance(r, str) and r for r in runs)):
                raise UserError(f"--params {p}: {name} is measured but names no run (run_ids); {fix}")
            emulated = [r for r in runs if _run_mode(r) not in (None, "hw")]
            if emulated:
                # an emulated run's times are the model's own output: a value fitted to them is no measurement
                raise UserError(f"--params {p}: {name} is 'measured' on run {emulated[0]}, which is emulated "
                                "(not timed on a card); refit it with `harness predict --fit` on runs measured on the card")
        n += 1
    return {"path": str(p), "sha256": _sha256(p), "tree": values, "parameters": n}


def _run_mode(run_id: str) -> str | None:
    """The mode in a run id `<UTC time>-<mode>-<bench>` (results/runs/), or None if it is not one."""
    m = re.match(r"^\d{8}T\d{6}Z-(hw|hw_emu|sw_emu|emu)-", run_id)
    return m.group(1) if m else None


def _lookup(tree: dict, path_: tuple):
    for part in path_:
        tree = tree.get(part) if isinstance(tree, dict) else None
        if tree is None:
            return None
    return tree


def use_params(path=None) -> dict:
    """Run the model with the parameter file at `path` overlaid on the defaults (None: the defaults).
    Returns params_file()."""
    global _overlay
    new = None if path is None else read_params_file(path)
    if new is not None or _overlay is not None:
        _overlay = new
        _params.cache_clear()
    return params_file()


def params_file() -> dict:
    """Which parameters the model runs with, for a run's context.json and a report."""
    if _overlay is None:
        return {"file": str(PARAMS_FILE.relative_to(PACKAGE.parent)), "sha256": _sha256(PARAMS_FILE),
                "overlay": False}
    return {"file": _overlay["path"], "sha256": _overlay["sha256"], "overlay": True,
            "defaults_sha256": _sha256(PARAMS_FILE)}


def overlay_entries() -> list:
    """[(path, entry)] of the --params file in use (empty with the defaults)."""
    return [] if _overlay is None else [(p, v) for p, v in _leaves(_overlay["tree"])]


def params_key() -> str:
    """What the parameter values depend on: for caches of model results."""
    return "default" if _overlay is None else _overlay["sha256"]


@contextlib.contextmanager
def trial(values: dict):
    """Evaluate the model with `values` ({('memory', 'hbm', 'efficiency'): 0.9, ...}) in place of the
    current ones (the fit's candidates); nothing else changes."""
    global _trial
    tree = dict(_params())
    for path_, x in values.items():
        node = tree
        for part in path_[:-1]:
            node[part] = dict(node[part])
            node = node[part]
        f = node[path_[-1]]
        node[path_[-1]] = Figure(f.name, float(x), f.unit, "model", "fit candidate")
    old, _trial = _trial, tree
    try:
        yield
    finally:
        _trial = old


class Modeled:
    """Mixin for the prediction dataclasses: their dict form says they are model output."""

    def to_dict(self) -> dict:
        from dataclasses import asdict
        return {**asdict(self), "modeled": True}
