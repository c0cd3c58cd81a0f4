"""`harness bench memcpy`: achieved HBM bandwidth per direction, PC count and size."""
from __future__ import annotations

import argparse

from harness.commands.options import add_common, parse_int_list, parse_sizes, run_options, xrt_emulation
from harness.commands.report import print_closing, print_table, timing_label
from harness.designs.codes import memcpy_modes
from harness.errors import UserError

HELP = "achieved HBM bandwidth per direction, PC count and size"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common(p)
    p.add_argument("--sizes", default=None,
                   help="bytes per PC: a doubling range LO..HI or a list (K/M/G suffixes; default 4K..256M, "
                        "4K,16K in hw_emu/sw_emu)")
    p.add_argument("--direction", action="append", choices=list(memcpy_modes()),
                   help="read, write or copy; repeat for several (default: all three)")
    p.add_argument("--pcs", default=None,
                   help="PCs driven at once, a list like 1,2,4,8,16,32 (default: every one of those "
                        "the direction can drive)")
    p.add_argument("--kernel-reps", default="auto",
                   help="in-kernel repetitions per launch, or auto (~64 MiB per CU per launch, at most 1024; "
                        "in hw_emu/sw_emu ~64 KiB, at most 64)")


def plan_from_args(args):
    """The checked plan: every (direction, PCs, size) that can run, with its in-kernel repetitions."""
    from harness.bench import memcpy as mc
    opts = run_options(args)
    emulation = xrt_emulation(args)
    _, kern, _, pc_bytes, n_pcs = mc.memcpy_design(emulation)
    cus = kern.cus
    sizes = parse_sizes(args.sizes if args.sizes is not None else (mc.EMULATION_SIZES if emulation else mc.DEFAULT_SIZES))
    if not sizes:
        raise UserError("--sizes is empty; give sizes like 4K..256M")
    for s in sizes:
        if s <= 0:
            raise UserError(f"--sizes {s}: sizes must be positive, e.g. 4K")
        if s % mc.WORD_BYTES:
            raise UserError(f"--sizes {s}: use a multiple of {mc.WORD_BYTES} B (one 512-bit word), "
                            f"e.g. {s // 64 * 64 or 64}")
        if s > pc_bytes:
            raise UserError(f"--sizes {s}: larger than one PC ({pc_bytes} bytes); use at most {pc_bytes >> 20}M")
    if args.kernel_reps == "auto":
        reps_of = mc.auto_kernel_reps_emulation if emulation else mc.auto_kernel_reps
    else:
        try:
            fixed = int(args.kernel_reps)
        except ValueError:
            raise UserError("--kernel-reps must be a positive integer or auto") from None
        if not 1 <= fixed <= 2 ** 32 - 1:
            raise UserError("--kernel-reps must be between 1 and 4294967295 (a 32-bit kernel argument)")
        reps_of = lambda _s: fixed  # noqa: E731
    directions = list(dict.fromkeys(args.direction or list(mc.DIRECTIONS)))
    explicit = args.pcs is not None
    pcs_list = parse_int_list(args.pcs, "--pcs") if explicit else mc.DEFAULT_PCS
    for pcs in pcs_list:
        if not 1 <= pcs <= n_pcs:
            raise UserError(f"--pcs {pcs}: the U280 has {n_pcs} HBM PCs; use 1 to {n_pcs}")
        # An explicit PC count must suit at least one requested direction; with several
        # directions, a count that suits only some (e.g. 1 for read, not copy) is skipped for the others.
        if explicit and not any(mc.fits(d, pcs, cus) for d in directions):
            d = directions[0]
            if d == "copy":
                raise UserError(f"--pcs {pcs} with copy: each CU drives 2 PCs (read + write); "
                                f"use an even number up to {2 * cus}")
            raise UserError(f"--pcs {pcs} with {d}: each CU drives one PC and there are {cus} CUs; "
                            f"use at most {cus}, or --direction copy to drive {2 * cus}")
    points = [mc.MemcpyPoint(d, pcs, s, reps_of(s))
              for d in directions for pcs in pcs_list if mc.fits(d, pcs, cus) for s in sizes]
    if not points:          # never a run directory with nothing in it
        raise UserError("no (direction, --pcs) combination can run; see `harness bench memcpy --help`")
    return mc.MemcpyPlan(points, opts, target=emulation)


def run(args) -> int:
    from harness.bench import memcpy as mc
    result = mc.run(plan_from_args(args))
    report(result)
    return 0


def report(result) -> None:
    summary = result.summary
    label = timing_label(result.timing_source)
    print(f"\nmemcpy bandwidth, decimal GB/s, {label}")
    rows = []
    device = "device_time_s_median" in summary.columns and summary["device_time_s_median"].notna().any()
    for (d, pcs), g in summary.groupby(["direction", "pcs"], sort=False):
        ok = g[g["verified"]]
        if ok.empty:
            rows.append([d, pcs, "-", "-", "FAILED verification"] + (["-", "-"] if device else []))
            continue
        best = ok.loc[ok["bandwidth_GBps_best"].idxmax()]
        row = [d, pcs, f"{best['bandwidth_GBps_best']:.2f}", f"{int(best['bytes_per_pc']):,}",
               f"{len(ok)}/{len(g)} sizes verified"]
        if device:
            # simulated device time of the same point beside the timing model's kernel time
            dt, mt = best.get("device_time_s_median"), best.get("model_time_s")
            row += [f"{dt * 1e6:,.1f}" if dt == dt and dt is not None else "-",
                    f"{mt * 1e6:,.1f}" if mt == mt and mt is not None else "-"]
        rows.append(row)
    print_table(rows, ["direction", "PCs", "best GB/s", "at bytes/PC", "verification"]
                + (["device us", "model us"] if device else []))
    print_closing(result, lambda r: f"{r['direction']} {r['pcs']} PCs {int(r['bytes_per_pc'])} B")
