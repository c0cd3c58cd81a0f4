"""`harness predict`: what the timing model says a configuration will do (no card needed)."""
from __future__ import annotations

import argparse
import json

from harness.commands.options import add_params, parse_float, parse_int, parse_shape, parse_size
from harness.errors import UserError

MODELED = "modeled (harness.model; not a measurement)"
MAX_HBM_PORTS = 32          # AXI slave ports of the HBM switch (UG1393)
# --flag -> build parameter of kernels/designs/gemm.toml it overrides
GEMM_FLAGS = (("tile-m", "GEMM_TILE_M"), ("tile-n", "GEMM_TILE_N"), ("tile-k", "GEMM_TILE_K"),
              ("rows", "GEMM_ROWS"), ("cols", "GEMM_COLS"), ("b-ports", "GEMM_B_PORTS"))


# ---------------------------------------------------------------- register
def register(subparsers) -> None:
    p = subparsers.add_parser(
        "predict", help="what the timing model predicts (bandwidth, GEMM time, dispatch); no card needed",
        description="Predict with the calibrated timing model (the same model the emulator uses). "
                    "Every figure printed is modeled, not measured. See harness/docs/model.md.")
    p.add_argument("--calibration", action="store_true",
                   help="print the model's error on every published calibration row and exit")
    p.add_argument("--fit", nargs="+", metavar="RUN_DIR", default=None,
                   help="fit the model's efficiency and latency parameters to measured runs (memcpy, gemm, "
                        "latency, transfer; --mode hw only), write them as a parameter file (--out) and print "
                        "the error per point before and after")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="with --fit: the parameter file to write (default results/params/fit-<UTC time>.toml)")
    add_params(p)
    p.set_defaults(func=_run_predict, _predict_parser=p)
    sub = p.add_subparsers(dest="predict_command", metavar="WHAT")

    m = sub.add_parser("memcpy", help="aggregate bandwidth of AXI ports moving data, and what limits it")
    _common(m)
    m.add_argument("--memory", default="hbm", help="hbm or ddr (default hbm)")
    m.add_argument("--ports", default="1", help="AXI masters (copy: half read, half write; a memcpy CU is 2)")
    m.add_argument("--pcs-per-port", default="1", help="PCs/banks each port's buffer spans (default 1)")
    m.add_argument("--pcs", default=None, help="distinct PCs/banks in all (default ports x pcs-per-port)")
    m.add_argument("--direction", default="read", help="read, write or copy (default read)")
    m.add_argument("--width", default="512", help="port width in bits: 32..512 (default 512)")
    m.add_argument("--burst", default=None, help="max burst length in beats, 1..256 (default 64, memcpy.toml)")
    m.add_argument("--outstanding", default=None, help="outstanding transactions (default 32, memcpy.toml)")
    m.add_argument("--bytes", default=None, help="bytes moved per port, K/M/G binary suffixes (default 64M)")
    m.add_argument("--pattern", default="seq", help="seq, stride or random (default seq)")
    m.add_argument("--txn-bytes", default=None, help="bytes per stride or random transaction (default one burst)")
    m.add_argument("--stride", default=None, help="bytes from one transaction's start to the next (--pattern stride)")
    m.add_argument("--cross-group", action="store_true", help="ports reach PCs in another 4x4 switch group")
    m.add_argument("--target-pc", default=None, metavar="PC",
                   help="the PC the ports' buffers lie in, seen from --port-pc: a number, or local, same-group, "
                        "other-group (default local)")
    m.add_argument("--port-pc", default="0", metavar="PC",
                   help="the PC next to the ports' HBM switch port (with a numeric --target-pc; default 0)")
    m.set_defaults(func=run_memcpy)

    g = sub.add_parser("gemm", help="time, GFLOP/s and bound of one GEMM on the design's CUs")
    _common(g)
    g.add_argument("--dtype", default="fp32", help="fp32, fp16, bf16, fx16 or int8 (default fp32)")
    g.add_argument("--shape", default=None, help="MxKxN, e.g. 512x512x512 (required unless --reference-design)")
    g.add_argument("--epilogue", default="none", help="none, bias or bias_gelu (fused) (default none)")
    g.add_argument("--unfused", action="store_true",
                   help="also model GEMM (epilogue none) followed by the bias_gelu kernel")
    g.add_argument("--reference-design", default=None, metavar="NAME",
                   help="model a published design with its published parameters instead (hpcc_u280, "
                        "autosa_u250) and print its published GFLOP/s beside the model's")
    for flag, key in GEMM_FLAGS:
        g.add_argument(f"--{flag}", default=None, help=f"{key} (default from kernels/designs/gemm.toml)")
    g.add_argument("--cus", default=None, help="CUs the GEMM is split over (default: the design's)")
    g.add_argument("--macs-per-dsp", default=None, help="override the design's MACs per DSP (e.g. 2 for int8 WP486)")
    g.add_argument("--port-bandwidth", default=None, help="GB/s per AXI port instead of the memcpy model")
    g.set_defaults(func=run_gemm)

    lt = sub.add_parser("latency", help="kernel dispatch overhead (and one GEMM call end to end with --shape)")
    _common(lt)
    lt.add_argument("--dtype", default="fp32", help="GEMM element type for --shape (default fp32)")
    lt.add_argument("--shape", default=None, help="MxKxN: add one GEMM call to the dispatch overhead")
    lt.set_defaults(func=run_latency)

    tr = sub.add_parser("transfer", help="time and GB/s of one host<->card bo.sync per size and direction")
    add_params(tr, default=argparse.SUPPRESS)
    tr.add_argument("--sizes", default="64,4K,64K,1M,16M,256M",
                    help="bytes per transfer: a list or a doubling range LO..HI, K/M/G binary suffixes "
                         "(default 64,4K,64K,1M,16M,256M)")
    tr.add_argument("--direction", default="h2d,d2h", help="h2d, d2h or both as a comma list (default both)")
    tr.add_argument("--json", action="store_true", help="print JSON instead of a table")
    tr.set_defaults(func=run_transfer)


def _common(p):
    add_params(p, default=argparse.SUPPRESS)     # as well as before the subcommand
    p.add_argument("--platform", default="u280", help="u280, u50, u55c, u200 or u250 (default u280)")
    p.add_argument("--clock-mhz", default=None, help="kernel clock in MHz (default: the platform's, 300)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _no_calibration(args) -> None:
    if getattr(args, "calibration", False):
        raise UserError("--calibration takes no subcommand: run `harness predict --calibration` alone")
    if getattr(args, "fit", None) is not None:
        raise UserError("--fit takes no subcommand: run `harness predict --fit RUN_DIR ...` alone")
    if getattr(args, "out", None) is not None:
        raise UserError("--out is the parameter file of --fit; a prediction prints to stdout (use --json)")


def _run_predict(args) -> int:
    if args.fit is not None:
        if args.calibration:
            raise UserError("--fit and --calibration are separate: run `harness predict --calibration "
                            "--params FILE` to check a fitted file against the published rows")
        from harness.model.fit import run_fit
        return run_fit(args.fit, args.out)
    if args.out is not None:
        raise UserError("--out names the parameter file of --fit; give --fit RUN_DIR ... too")
    if args.calibration:
        from harness.model.calibration import evaluate, report, summary
        res = evaluate()
        if getattr(args, "json", False):
            print(json.dumps({"summary": summary(res), "rows": [
                {"id": r.id, "use": r.use, "published": r.measured, "modeled": r.predicted, "error": r.error,
                 "limit": r.limit} for r in res]}, indent=2))
        else:
            print(report(res))
        return 0
    args._predict_parser.print_help()
    return 2


def _clock(args):
    return None if args.clock_mhz is None else parse_float(args.clock_mhz, "--clock-mhz")


def _fmt(v, unit):
    return f"{v:,.2f} {unit}" if abs(v) >= 10 else f"{v:.4g} {unit}"


# ---------------------------------------------------------------- memcpy
def _switch_target(p, args) -> str:
    """--target-pc (a relation, or a PC seen from --port-pc) as local | same-group | other-group."""
    from harness.model import TARGETS, switch_target
    t = (args.target_pc or "local").strip().lower()
    if t in TARGETS:
        return t
    if not t.isdigit():
        raise UserError(f"--target-pc {args.target_pc!r}: use {', '.join(TARGETS)} or a PC number")
    return switch_target(p, parse_int(args.port_pc, "--port-pc"), parse_int(t, "--target-pc"),
                         args.memory.lower())


def run_memcpy(args) -> int:
    _no_calibration(args)
    from harness.designs import load_design
    from harness.model import load_platform, predict_memcpy
    p = load_platform(args.platform)
    clock = _clock(args)
    design = load_design("memcpy").all_params("bw_memcpy")   # burst and outstanding: one source
    ports = parse_int(args.ports, "--ports")
    if args.memory.lower() == "hbm" and ports > MAX_HBM_PORTS:
        raise UserError(f"--ports {ports}: the HBM switch has {MAX_HBM_PORTS} AXI ports; use at most {MAX_HBM_PORTS}")
    target = _switch_target(p, args)
    pred = predict_memcpy(
        p, memory=args.memory.lower(), ports=ports, target=target,
        pcs_per_port=parse_int(args.pcs_per_port, "--pcs-per-port"),
        pcs=None if args.pcs is None else parse_int(args.pcs, "--pcs"), direction=args.direction.lower(),
        width_bits=parse_int(args.width, "--width"), clock_mhz=p.clock_mhz.value if clock is None else clock,
        burst=parse_int(args.burst, "--burst") if args.burst is not None else design["MEMCPY_BURST"],
        outstanding=(parse_int(args.outstanding, "--outstanding") if args.outstanding is not None
                     else design["MEMCPY_OUTSTANDING"]),
        bytes=parse_size(args.bytes, "--bytes") if args.bytes is not None else None,
        pattern=args.pattern.lower(),
        txn_bytes=parse_size(args.txn_bytes, "--txn-bytes") if args.txn_bytes is not None else None,
        stride_bytes=parse_size(args.stride, "--stride") if args.stride is not None else None,
        cross_group=args.cross_group)
    if args.json:
        print(json.dumps(pred.to_dict(), indent=2))
        return 0
    i = pred.inputs
    print(f"harness predict memcpy: {MODELED}, {pred.model_version}")
    print(f"  {i['platform']} {i['memory'].upper()}, {i['ports']} port(s) ({i['read_ports']} read, "
          f"{i['write_ports']} write), {i['pcs']} PC(s)/bank(s), {i['pcs_per_port']} per port, "
          f"{i['width_bits']}-bit @ {i['clock_mhz']:g} MHz, burst {i['burst']}, outstanding {i['outstanding']}, "
          f"{i['pattern']}" + (f" {i['txn_bytes']} B transactions" if i["txn_bytes"] else "")
          + (f" every {i['stride_bytes']} B" if i["stride_bytes"] else "")
          + (", crossing switch groups" if i["cross_group"] else "")
          + (f", buffers {i['target']} from the switch port" if i["target"] != "local" else ""))
    print(f"  {'ceiling (aggregate, decimal GB/s)':<36} {'GB/s':>10}  how")
    for name, v in sorted(pred.limits.items(), key=lambda kv: -kv[1]):
        mark = "  <- binds" if name == pred.limit else ""
        print(f"  {name:<36} {v:>10.2f}  {pred.explain.get(name, '')}{mark}")
    print(f"  predicted bandwidth: {_fmt(pred.bandwidth_GBps, 'GB/s')} aggregate (modeled), limited by: {pred.limit}")
    print(f"  time to move {i['bytes']:,} B per port: {pred.time_s * 1e3:.4g} ms (modeled)")
    return 0


# ---------------------------------------------------------------- gemm
def _design_params(dtype):
    """Build params and CU count of kernels/designs/gemm.toml for this element type (one source of
    design facts). An element type with no built variant (bf16) is predicted with the fp32 variant."""
    from harness.designs import list_designs, load_design
    built = [v for v in list_designs().get("gemm", []) if v]
    use = dtype if dtype in built else "fp32"
    d = load_design("gemm", dtype=use)
    origin = f"kernels/designs/gemm.toml ({dtype})" if use == dtype else \
        f"kernels/designs/gemm.toml (fp32 design: {dtype} is not built)"
    return d.all_params("gemm"), d.kernels["gemm"].cus, origin


def _gemm_params(args):
    params, cus, origin = _design_params(args.dtype)
    for flag, key in GEMM_FLAGS:
        v = getattr(args, flag.replace("-", "_"))
        if v is not None:
            params[key] = parse_int(v, "--" + flag)
            # the largest tiles the kernel takes (its static_asserts read the same design parameters)
            top = params["GEMM_MAX_TILE_M"] if key == "GEMM_TILE_M" else params["GEMM_MAX_TILE_NK"]
            if not 1 <= params[key] <= top:
                raise UserError(f"--{flag} {params[key]}: use 1 to {top}")
    if args.cus is not None:
        cus = parse_int(args.cus, "--cus")
        if not 1 <= cus <= 16:
            raise UserError(f"--cus {cus}: use 1 to 16")
    return params, cus, origin


def _port_bandwidth(args, platform):
    if args.port_bandwidth is None:
        return None
    bw = parse_float(args.port_bandwidth, "--port-bandwidth")
    clock = _clock(args) or platform.clock_mhz.value
    cap = 64 * clock * 1e6 / 1e9          # a 512-bit port at the kernel clock
    if not 0 < bw <= cap:
        raise UserError(f"--port-bandwidth {bw:g}: a 512-bit port at {clock:g} MHz moves at most {cap:.1f} GB/s")
    return bw


def run_reference(args) -> int:
    from harness.model import predict_reference_design
    given = [f for f in ("shape", "cus", "macs_per_dsp", "port_bandwidth", "clock_mhz") if getattr(args, f) is not None]
    given += [f for f, _ in GEMM_FLAGS if getattr(args, f.replace("-", "_")) is not None]
    if given:
        raise UserError(f"--reference-design takes the design's published parameters; drop --{given[0].replace('_', '-')}")
    d = predict_reference_design(args.reference_design)
    if args.json:
        print(json.dumps(d, indent=2))
        return 0
    i = d["inputs"]
    print(f"harness predict gemm --reference-design {args.reference_design}: {MODELED}, {d['model_version']}")
    print(f"  {d['description']}")
    print(f"  {i['platform']} {i['dtype']} {i['M']}x{i['K']}x{i['N']}, {i['cus']} CU(s) x {i['macs_per_cu']} MACs, "
          f"{i['clock_mhz']:g} MHz, {i['memory'].upper()}")
    print(f"  modeled {d['gflops']:,.2f} GFLOP/s ({d['fraction_of_kernel_peak']:.0%} of its {d['kernel_peak_GFLOPps']:,.1f} "
          f"peak), published {d['published_gflops']:,.2f} GFLOP/s ({d['published_source']}); "
          f"model error {d['model_error']:+.1%}")
    return 0


def run_gemm(args) -> int:
    _no_calibration(args)
    if args.reference_design is not None:
        return run_reference(args)
    if args.shape is None:
        raise UserError("give --shape MxKxN (e.g. 512x512x512), or --reference-design hpcc_u280|autosa_u250")
    from harness.model import load_platform, predict_elementwise, predict_gemm, split_columns
    from harness.model.platform import dtype_figure
    p = load_platform(args.platform)
    M, K, N = parse_shape(args.shape)
    params, cus, origin = _gemm_params(args)
    kw = dict(dtype=args.dtype, M=M, K=K, N=N, params=params, cus=cus, clock_mhz=_clock(args),
              macs_per_dsp=None if args.macs_per_dsp is None else parse_float(args.macs_per_dsp, "--macs-per-dsp"),
              port_bandwidth_GBps=_port_bandwidth(args, p))
    pred = predict_gemm(p, epilogue=args.epilogue, **kw)
    unfused = None
    if args.unfused:
        g0 = predict_gemm(p, epilogue="none", **kw)
        n_cu = max(n for _, n in split_columns(N, cus, int(params["GEMM_COLS"])))   # bias_gelu on every CU too
        ew = predict_elementwise(p, M=M, N=n_cu, elem_bytes=int(dtype_figure(args.dtype, "out_bytes").value),
                                 clock_mhz=kw["clock_mhz"], params=params, epilogue=args.epilogue
                                 if args.epilogue != "none" else "bias_gelu",
                                 port_bandwidth_GBps=kw["port_bandwidth_GBps"])
        unfused = {"gemm_s": g0.time_s, "bias_gelu_s": ew.time_s, "time_s": g0.time_s + ew.time_s,
                   "gflops": g0.flop / (g0.time_s + ew.time_s) / 1e9, "bias_gelu": ew.to_dict()}
    if args.json:
        d = pred.to_dict()
        d["params_from"] = origin
        if unfused:
            d["unfused"] = unfused
        print(json.dumps(d, indent=2))
        return 0
    i = pred.inputs
    print(f"harness predict gemm: {MODELED}, {pred.model_version}")
    print(f"  {i['platform']} {i['dtype']} {M}x{K}x{N}, epilogue {i['epilogue']}, {i['cus']} CU(s) of "
          f"{i['rows']}x{i['cols']} MACs, tiles {i['tile_m']}x{i['tile_n']}x{i['tile_k']}, {i['b_ports']} B port(s), "
          f"{pred.dsps:,.0f} DSPs, {i['clock_mhz']:g} MHz; params from {origin}")
    for c in pred.per_cu:
        if c["N"]:
            print(f"  CU {c['cu']}: columns {c['n_start']}..{c['n_start'] + c['N'] - 1}, {c['time_s'] * 1e6:,.2f} us, "
                  f"{c['gflops']:,.2f} GFLOP/s")
    print(f"  critical path (slowest CU): compute-bound steps {pred.compute_s * 1e6:,.2f} us, "
          f"load/store-bound steps {pred.memory_s * 1e6:,.2f} us, exposed {pred.latency_s * 1e6:,.2f} us")
    print(f"  predicted time {pred.time_s * 1e6:,.2f} us, {pred.gflops:,.2f} GFLOP/s = {pred.fraction_of_kernel_peak:.1%} "
          f"of the design's {pred.kernel_peak_GFLOPps:,.1f}, {pred.fraction_of_device_peak:.1%} of the device's "
          f"{pred.device_peak_GFLOPps:,.1f} (DSPs / {i['dsp_per_mac']:g} per MAC); bound: {pred.bound} "
          f"(modeled; dispatch not included)")
    if unfused:
        print(f"  unfused: gemm {unfused['gemm_s'] * 1e6:,.2f} us + bias_gelu {unfused['bias_gelu_s'] * 1e6:,.2f} us"
              f" = {unfused['time_s'] * 1e6:,.2f} us, {unfused['gflops']:,.2f} GFLOP/s (modeled)")
    return 0


# ---------------------------------------------------------------- latency
def run_latency(args) -> int:
    _no_calibration(args)
    from harness.model import dispatch_overhead, dispatch_spread, load_platform, predict_gemm
    p = load_platform(args.platform)
    d = dispatch_overhead(p)
    lo, hi = dispatch_spread(p)
    out = {"modeled": True, "dispatch_overhead_s": d.value, "spread_s": [lo.value, hi.value], "figure": d.to_dict()}
    g = None
    if args.shape:
        M, K, N = parse_shape(args.shape)
        params, cus, origin = _design_params(args.dtype)
        g = predict_gemm(p, dtype=args.dtype, M=M, K=K, N=N, params=params, cus=cus, clock_mhz=_clock(args))
        out.update(gemm_s=g.time_s, end_to_end_s=d.value + g.time_s, pipeline_fill_s=g.pipeline_fill_s,
                   params_from=origin)
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"harness predict latency: {MODELED}")
    print(f"  dispatch overhead (start() to wait() of an empty kernel): {d.value * 1e6:.0f} us "
          f"(spread {lo.value * 1e6:.0f}-{hi.value * 1e6:.0f} us); {d.detail}")
    if g is not None:
        print(f"  one {args.dtype} {args.shape} GEMM call: {g.time_s * 1e6:,.2f} us kernel "
              f"(pipeline fill {g.pipeline_fill_s * 1e6:.2f} us) + dispatch = {(g.time_s + d.value) * 1e6:,.2f} us")
    return 0


# ---------------------------------------------------------------- transfer
def run_transfer(args) -> int:
    """The model's time of one bo.sync per size and direction (what `harness bench transfer` runs)."""
    _no_calibration(args)
    from harness.commands.options import parse_sizes
    from harness.model.transfer import DIRECTIONS, predict_transfer, transfer_params
    sizes = parse_sizes(args.sizes, "--sizes")
    if not sizes:
        raise UserError("--sizes is empty; give sizes like 64,4K,1M")
    dirs = [d.strip() for d in args.direction.split(",") if d.strip()]
    bad = [d for d in dirs if d not in DIRECTIONS]
    if bad or not dirs:
        raise UserError(f"--direction {args.direction!r}: use h2d, d2h or h2d,d2h")
    preds = [predict_transfer(n, d) for d in dict.fromkeys(dirs) for n in sizes]
    if args.json:
        print(json.dumps({"modeled": True, "points": [
            {"direction": q.direction, "bytes": q.bytes, "time_s": q.time_s, "bandwidth_GBps": q.bandwidth_GBps,
             "figure": q.figure().to_dict()} for q in preds]}, indent=2))
        return 0
    from harness.model import model_version
    print(f"harness predict transfer: {MODELED}, {model_version()}")
    for d in dict.fromkeys(dirs):
        lat, bw = transfer_params(d)
        print(f"  {d}: {lat.value * 1e6:g} us + bytes / {bw.value:g} GB/s "
              f"(latency {lat.source}: {lat.detail}; bandwidth {bw.source}: {bw.detail})")
    from harness.commands.report import print_table
    print_table([[q.direction, f"{q.bytes:,}", f"{q.time_s * 1e6:,.2f}", f"{q.bandwidth_GBps:.4g}"] for q in preds],
                ["direction", "bytes", "time us", "GB/s"])
    return 0
