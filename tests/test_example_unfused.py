"""examples/unfused-fp32 end to end, as its README runs it: every `harness` line of the README's
shell block, in order (bench commands shortened to one launch per shape), then the checks a reader
relies on: every launch verified, times from the specs' cycle models, the ops on the roofline."""
from __future__ import annotations

import glob
import re
import shlex
from pathlib import Path

import pytest

from harness.cli import main
from harness.results.reader import load_run

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "unfused-fp32"
QUICK = ["--warmup", "0", "--repeats", "1"]


def readme_commands() -> list[list[str]]:
    """The `harness ...` lines of the README's first sh block, with $OUT left in."""
    text = (EXAMPLE / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.S).group(1)
    return [shlex.split(line)[1:] for line in block.splitlines() if line.startswith("harness ")]


def test_the_example_holds_one_spec_per_kernel_and_nothing_else_toml():
    assert sorted(p.name for p in EXAMPLE.glob("*.toml")) == ["add_bias.toml", "gelu.toml", "gemm.toml"]
    for stem in ("gemm", "add_bias", "gelu"):
        assert (EXAMPLE / f"{stem}.cpp").is_file()
    assert "hls_math.h" in (EXAMPLE / "gelu.cpp").read_text() and "hls::tanh" in (EXAMPLE / "gelu.cpp").read_text()


@pytest.mark.slow
def test_the_readme_runs_end_to_end(tmp_path, capsys):
    out = tmp_path / "out"
    cmds = readme_commands()
    assert [c[:2] for c in cmds] == [["bench", "kernel"]] * 3 + [["bench", "memcpy"], ["bench", "gemm"],
                                                                  ["roofline", "--results"]]
    for argv in cmds:
        argv = [a.replace("$OUT", str(out)) for a in argv]
        expanded = []
        for a in argv:
            expanded += sorted(glob.glob(a)) if "*" in a else [a]
        if expanded[0] == "bench":
            expanded += QUICK
        assert main(expanded) == 0, " ".join(expanded)
    runs = {}
    for p in sorted(out.iterdir()):
        if (p / "context.json").is_file():
            r = load_run(p)
            runs[f"kernel:{r.context['kernel']['kernel']}" if r.bench == "kernel" else r.bench] = r
    assert set(runs) == {"kernel:gemm", "kernel:add_bias", "kernel:gelu", "memcpy", "gemm"}
    for name in ("gemm", "add_bias", "gelu"):
        r = runs[f"kernel:{name}"]
        assert r.bench == "kernel" and r.timing_source == "model" and r.samples["verified"].all()
        assert (r.samples["time_s"] > r.samples["predicted_time_s"]).all()       # cycle model + dispatch
    roof = out / "roofline"
    for f in ("report.md", "ops.csv", "roofline.png"):
        assert (roof / f).is_file(), f
    # your kernels on the roofline: the fc1 chain is theirs, in ops.csv and in the report
    import csv
    with open(roof / "ops.csv") as f:
        src = {(r["ceiling_set"], r["name"]): r["kernel_source"] for r in csv.DictReader(f)}
    assert src[("achieved", "vision.mlp.fc1")] == "gemm" and src[("spec", "vision.mlp.fc1.gelu")] == "gelu"
    assert src[("achieved", "vision.mlp.fc1.bias")] == "add_bias" and src[("achieved", "prefix.mlp.up")] == ""
    md = (roof / "report.md").read_text()
    yours = md.split("## Your kernels", 1)[1].split("\n## ", 1)[0]
    assert "| vision.mlp.fc1 | gemm | 1024x768x3072 |" in yours and "| vision.mlp.fc1 | bias+gelu |" in yours
    assert "Your kernels (add_bias, gelu, gemm" in capsys.readouterr().out
