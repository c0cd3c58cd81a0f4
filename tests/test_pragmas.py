"""Every HLS pragma value, as the preprocessor sees it with the design's -D flags, agrees with
the design file: the kernels take their build facts from kernels/designs/*.toml and nowhere else."""
from __future__ import annotations

import re
import subprocess

import pytest

from harness.designs import all_designs
from harness.designs.files import KERNELS_DIR
from harness.designs.native import CXX, NATIVE_SHIMS, ap_types_dir

# m_axi options whose values are build facts, and the design parameter each must come from
# (by name in the raw source: a literal there is a fact written twice).
PORT_OPTIONS = ("max_read_burst_length", "max_write_burst_length", "num_read_outstanding",
                "num_write_outstanding", "max_widen_bitwidth")
_PREVIEW = re.compile(r'hlsc_pragma_preview\s+"((?:[^"\\]|\\.)*)"')


def preprocess(source, defines: dict) -> str:
    cmd = [CXX, "-E", "-P", "-std=c++17", "-DHLSC_PRAGMA_PREVIEW", f"-I{NATIVE_SHIMS}", f"-I{ap_types_dir()}",
           f"-I{KERNELS_DIR / 'common'}", *[f"-D{k}={v}" for k, v in sorted(defines.items())], str(source)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def pragmas(text: str) -> list[str]:
    """Every HLS pragma of preprocessed text: plain `#pragma HLS` lines and HLSC_PRAGMA previews."""
    plain = [ln.strip()[len("#pragma "):] for ln in text.splitlines() if ln.strip().startswith("#pragma HLS")]
    return plain + _PREVIEW.findall(text)


def options(pragma: str) -> dict[str, str]:
    return dict(re.findall(r"(\w+)=(\S+)", pragma))


def raw_port_values(source_text: str) -> list[tuple[str, str]]:
    """(option, raw token) of every build-fact option of every m_axi pragma in the source."""
    out = []
    for line in source_text.splitlines():
        if "m_axi" in line and "INTERFACE" in line:
            out += [(k, v.rstrip(")")) for k, v in re.findall(r"(\w+)=(\S+)", line) if k in PORT_OPTIONS]
    return out


CASES = [(d, k) for d in all_designs() for k in d.kernels.values()]


@pytest.mark.parametrize("design,kernel", CASES, ids=[f"{d.name}-{k.name}" for d, k in CASES])
def test_every_pragma_value_is_the_design_files(design, kernel):
    src = KERNELS_DIR / kernel.source
    defines = design.build_defines(kernel.name)
    # 1. In the source, build-fact options name a design parameter (never a literal).
    for opt, token in raw_port_values(src.read_text()):
        assert token in defines, f"{kernel.source}: {opt}={token} is not a parameter of {design.base}.toml"
    # 2. As the preprocessor sees it, each such value is that parameter's value in the design file,
    #    and no pragma is left with an unexpanded design parameter.
    text = preprocess(src, defines)
    seen = pragmas(text)
    if raw_port_values(src.read_text()):
        assert any("m_axi" in p for p in seen), "the preview switch produced no m_axi pragma"
    raw = dict(raw_port_values(src.read_text()))
    for p in seen:
        for key, value in options(p).items():
            assert value not in defines, f"{kernel.source}: pragma `{p}` keeps {value} unexpanded"
            if key in PORT_OPTIONS and "m_axi" in p:
                want = defines[raw[key]] if key in raw else None
                assert want is not None and int(value) == int(want), \
                    f"{kernel.source}: `{p}` has {key}={value}, the design file says {want}"


def test_the_check_sees_a_literal_and_a_wrong_value(tmp_path):
    """The check must be able to fail: a literal burst in the source, and a value that differs."""
    src = tmp_path / "k.cpp"
    src.write_text('#include "hls_compat.h"\nextern "C" void k(int* a) {\n'
                   "HLSC_PRAGMA(HLS INTERFACE m_axi port=a bundle=g max_read_burst_length=B)\n"
                   "#pragma HLS INTERFACE m_axi port=a bundle=g num_read_outstanding=16\n}\n")
    raw = dict(raw_port_values(src.read_text()))
    assert raw["num_read_outstanding"] == "16" and "16" not in {"B": 1}   # a literal: refused by step 1
    seen = pragmas(preprocess(src, {"B": 32}))
    assert any("max_read_burst_length=32" in p for p in seen)             # the preview expands B
    assert any("num_read_outstanding=16" in p for p in seen)              # plain pragmas are read too


# HLSC_BURST_LIMITS(port, read burst, read outstanding, write burst, write outstanding): the limits the
# native hls::burst_maxi checks (kernels/common/native/hls_burst_maxi.h), which must be the port's pragma.
_LIMITS = re.compile(r"HLSC_BURST_LIMITS\(\s*(\w+)\s*,\s*(\w+)\s*,\s*(\w+)\s*,\s*(\w+)\s*,\s*(\w+)\s*\)")
_LIMIT_OPTIONS = ("max_read_burst_length", "num_read_outstanding", "max_write_burst_length", "num_write_outstanding")


def burst_limit_mismatches(source_text: str) -> list[str]:
    """Every HLSC_BURST_LIMITS whose values are not the same tokens as its port's m_axi pragma."""
    ports = {}
    for line in source_text.splitlines():
        if "m_axi" in line and "INTERFACE" in line:
            opts = dict(re.findall(r"(\w+)=([^\s)]+)", line))
            ports[opts.get("port")] = opts
    bad = []
    for port, *vals in _LIMITS.findall(source_text):
        want = [ports.get(port, {}).get(o) for o in _LIMIT_OPTIONS]
        if vals != want:
            bad.append(f"HLSC_BURST_LIMITS({port}, {', '.join(vals)}) but the m_axi pragma of {port} says "
                       f"{dict(zip(_LIMIT_OPTIONS, want))}")
    return bad


@pytest.mark.parametrize("design,kernel", CASES, ids=[f"{d.name}-{k.name}" for d, k in CASES])
def test_the_native_burst_limits_are_the_pragmas(design, kernel):
    text = (KERNELS_DIR / kernel.source).read_text()
    assert burst_limit_mismatches(text) == []
    if "hls::burst_maxi" in text:          # every burst_maxi port has its limits declared
        ports = re.findall(r"hls::burst_maxi<[^>]*>\s*>?\s*(\w+)", text.split("extern \"C\"")[-1])
        assert ports and {p for p, *_ in _LIMITS.findall(text)} >= set(ports)


def test_the_burst_limit_check_sees_a_mismatch():
    src = ("HLSC_PRAGMA(HLS INTERFACE m_axi port=a bundle=g max_read_burst_length=B max_write_burst_length=B "
           "num_read_outstanding=O num_write_outstanding=O)\n")
    assert burst_limit_mismatches(src + "HLSC_BURST_LIMITS(a, B, O, B, O)\n") == []
    assert burst_limit_mismatches(src + "HLSC_BURST_LIMITS(a, B, 16, B, O)\n")
    assert burst_limit_mismatches(src + "HLSC_BURST_LIMITS(b, B, O, B, O)\n")
