"""`harness predict` through a parser holding only the predict command (and once via python -m harness)."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from harness import REPO_ROOT
from harness.commands import predict
from harness.errors import UserError


def run(argv, capsys):
    parser = argparse.ArgumentParser(prog="harness")
    predict.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    try:
        rc = args.func(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        rc = UserError.exit_code
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_memcpy_json_has_contract_keys(capsys):
    rc, out, _ = run(["predict", "memcpy", "--ports", "32", "--direction", "copy", "--json"], capsys)
    assert rc == 0
    d = json.loads(out)
    for k in ("bandwidth_GBps", "limit", "limits", "inputs", "model_version"):
        assert k in d
    assert d["limit"] in d["limits"] and d["modeled"] is True
    assert 0 < d["bandwidth_GBps"] <= 460


def test_memcpy_table_says_modeled_and_names_binding_limit(capsys):
    rc, out, _ = run(["predict", "memcpy", "--burst", "4", "--outstanding", "2", "--bytes", "16M"], capsys)
    assert rc == 0
    assert "modeled" in out and "<- binds" in out and "Little's law" in out


def test_sizes_take_binary_suffixes(capsys):
    assert predict.parse_size("4K") == 4096 and predict.parse_size("64M") == 64 * 2 ** 20
    assert predict.parse_size("1G") == 2 ** 30 and predict.parse_size("512") == 512
    with pytest.raises(UserError):
        predict.parse_size("4Q")


@pytest.mark.parametrize("argv", [
    ["predict", "memcpy", "--burst", "300"], ["predict", "memcpy", "--width", "300"],
    ["predict", "memcpy", "--ports", "0"], ["predict", "memcpy", "--bytes=-4K"],
    ["predict", "memcpy", "--clock-mhz", "0"], ["predict", "memcpy", "--outstanding=-1"],
    ["predict", "memcpy", "--burst", "many"], ["predict", "gemm", "--shape", "0x4x4"],
    ["predict", "gemm", "--shape", "64x64"], ["predict", "gemm", "--shape", "64x64x64", "--rows", "0"],
    ["predict", "memcpy", "--platform", "u9000"],
])
def test_impossible_inputs_exit_2_with_one_line(argv, capsys):
    rc, out, err = run(argv, capsys)
    assert rc == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_gemm_and_latency(capsys):
    rc, out, _ = run(["predict", "gemm", "--dtype", "fp32", "--shape", "256x256x256", "--json", "--unfused"],
                     capsys)
    assert rc == 0
    d = json.loads(out)
    assert d["bound"] in ("compute", "memory", "latency") and d["gflops"] > 0 and d["unfused"]["time_s"] > 0
    rc, out, _ = run(["predict", "gemm", "--shape", "128x128x128", "--tile-m", "32", "--rows", "8"], capsys)
    assert rc == 0 and "modeled" in out and "8x64 MACs" in out and "tiles 32x" in out
    rc, out, _ = run(["predict", "latency", "--json"], capsys)
    d = json.loads(out)
    assert rc == 0 and d["spread_s"][0] <= d["dispatch_overhead_s"] <= d["spread_s"][1]


def test_calibration_flag_prints_table(capsys):
    rc, out, _ = run(["predict", "--calibration"], capsys)
    assert rc == 0 and "H1" in out and "median" in out and "PASS" in out


def test_python_m_harness_refuses_burst_300():
    r = subprocess.run([sys.executable, "-m", "harness", "predict", "memcpy", "--burst", "300"],
                       capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
