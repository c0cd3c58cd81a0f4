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
                        "4K,16K in hw_emu/sw_emu; in --mode emu the default stops where the modeled bandwidth "
                        "stops changing)")
    p.add_argument("--direction", action="append", metavar="DIRS",
                   help=f"{', '.join(memcpy_modes())}, or a comma list like read,copy (may be repeated; "
                        "default: all three)")
    p.add_argument("--pcs", default=None,
                   help="PCs driven at once, a list like 1,2,4,8,16,32 (default: every one of those "
                        "the direction can drive)")
    p.add_argument("--target-pc", default=None, metavar="TARGETS",
                   help="where the buffers under test lie, seen from each CU's own port: local, same-group "
                        "(another PC of its 4x4 switch group), other-group (the neighbouring group: lateral "
                        "traffic), or a PC number 0-31 for every CU; a comma list sweeps them (default: local)")
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
    default_sizes = args.sizes is None
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
    directions = parse_directions(args.direction, list(mc.DIRECTIONS))
    explicit = args.pcs is not None
    pcs_list = parse_int_list(args.pcs, "--pcs") if explicit else mc.DEFAULT_PCS
    notes = []
    for pcs in pcs_list:
        if not 1 <= pcs <= n_pcs:
            raise UserError(f"--pcs {pcs}: the U280 has {n_pcs} HBM PCs; use 1 to {n_pcs}")
        # An explicit PC count must suit at least one requested direction; a count that suits only
        # some (e.g. 1 for read, not copy) runs for those and the others are named in a note.
        cannot = [d for d in directions if not mc.fits(d, pcs, cus)]
        if explicit and len(cannot) == len(directions):
            raise UserError(_why_not(cannot[0], pcs, cus))
        if explicit and cannot:
            notes.append(f"{', '.join(cannot)} not run on {pcs} PC{'s' if pcs != 1 else ''}: "
                         + "; ".join(_why_not(d, pcs, cus).split(": ", 1)[1] for d in cannot))
    targets = parse_targets(args.target_pc, n_pcs)
    points = [mc.MemcpyPoint(d, pcs, s, reps_of(s), t)
              for t in targets for d in directions for pcs in pcs_list if mc.fits(d, pcs, cus) for s in sizes]
    for t in targets:
        _check_fits(t, [p for p in points if p.target == t], kern, pc_bytes)
    if not points:          # never a run directory with nothing in it
        raise UserError("no (direction, --pcs) combination can run; see `harness bench memcpy --help`")
    return mc.MemcpyPlan(points, opts, target=emulation, default_sizes=default_sizes and not emulation,
                         notes=tuple(notes))


def parse_targets(value: str | None, n_pcs: int) -> list[str]:
    """--target-pc local,same-group,other-group,5: those names and PC numbers, in order, without repeats."""
    from harness.model import TARGETS
    if value is None:
        return ["local"]
    out = []
    for t in (x.strip() for x in value.split(",")):
        if t in TARGETS:
            out.append(t)
        elif t.isdigit() and int(t) < n_pcs:
            out.append(str(int(t)))
        else:
            raise UserError(f"--target-pc {t or value!r}: use {', '.join(TARGETS)} or a PC number 0 to {n_pcs - 1}, "
                            "or a comma list like local,other-group")
    return list(dict.fromkeys(out))


def _check_fits(target: str, points: list, kern, pc_bytes: int) -> None:
    """The buffers of one target's points must fit every PC they go to (harness.bench.memcpy.pc_loads:
    with --target-pc, another CU's buffer shares a PC with a port's own words, or every CU's the one PC)."""
    from harness.bench import memcpy as mc
    from harness.model import load_platform
    if not points:
        return
    load = mc.pc_loads(kern, load_platform("u280"), points)
    pc = max(load, key=load.get)
    if load[pc] > pc_bytes:
        raise UserError(f"--target-pc {target}: HBM[{pc}] would hold {load[pc]} bytes of buffers, more than its "
                        f"{pc_bytes}; use smaller --sizes or fewer --pcs")


def parse_directions(values: list[str] | None, known: list[str]) -> list[str]:
    """--direction read,copy (or repeated): known names, in order, without repeats."""
    if not values:
        return list(known)
    out = []
    for v in values:
        for d in (x.strip() for x in v.split(",")):
            if not d:
                continue
            if d not in known:
                raise UserError(f"--direction: invalid choice {d!r}; use {', '.join(known)}, or a comma list "
                                "like read,copy")
            out.append(d)
    if not out:
        raise UserError(f"--direction is empty; use {', '.join(known)}, or a comma list like read,copy")
    return list(dict.fromkeys(out))


def _why_not(direction: str, pcs: int, cus: int) -> str:
    if direction == "copy":
        return (f"--pcs {pcs} with copy: each CU drives 2 PCs (read + write); "
                f"use an even number up to {2 * cus}")
    return (f"--pcs {pcs} with {direction}: each CU drives one PC and there are {cus} CUs; "
            f"use at most {cus}, or --direction copy to drive {2 * cus}")


def run(args) -> int:
    from harness.bench import memcpy as mc
    result = mc.run(plan_from_args(args))
    report(result)
    return 0


def target_label(port_pc, target_pc) -> str:
    """'other-group (HBM[4])': where the buffers under test lay, seen from bw_memcpy_1's port."""
    from harness.model import load_platform, switch_target
    try:
        return f"{switch_target(load_platform('u280'), int(port_pc), int(target_pc))} (HBM[{int(target_pc)}])"
    except (TypeError, ValueError, UserError):
        return "-"


def report(result) -> None:
    from harness import model
    from harness.results.points import modeled_memcpy_GBps as modeled_GBps
    summary = result.summary
    label = timing_label(result.timing_source)
    dispatch_s = model.dispatch_overhead(model.load_platform("u280")).value
    print(f"\nmemcpy bandwidth, decimal GB/s, {label}; model: harness.model at the same point, "
          "one launch overhead included")
    rows = []
    device = "device_time_s_median" in summary.columns and summary["device_time_s_median"].notna().any()
    keys = ["direction", "pcs"] + [k for k in ("port_pc", "target_pc") if k in summary.columns]
    for key, g in summary.groupby(keys, sort=False, dropna=False):
        d, pcs = key[0], key[1]
        where = target_label(*key[2:4]) if len(key) == 4 else "-"
        ok = g[g["verified"]]
        if ok.empty:
            rows.append([d, pcs, where, "-", "-", "-", "FAILED verification"] + (["-", "-"] if device else []))
            continue
        best = ok.loc[ok["bandwidth_GBps_best"].idxmax()]
        mod = modeled_GBps(best, dispatch_s)
        row = [d, pcs, where, f"{best['bandwidth_GBps_best']:.2f}", f"{mod:.2f}" if mod else "-",
               f"{int(best['bytes_per_pc']):,}", f"{len(ok)}/{len(g)} sizes verified"]
        if device:
            # simulated device time of the same point beside the timing model's kernel time
            dt, mt = best.get("device_time_s_median"), best.get("model_time_s")
            row += [f"{dt * 1e6:,.1f}" if dt == dt and dt is not None else "-",
                    f"{mt * 1e6:,.1f}" if mt == mt and mt is not None else "-"]
        rows.append(row)
    print_table(rows, ["direction", "PCs", "target (CU 1)", "best GB/s", "model GB/s", "at bytes/PC", "verification"]
                + (["device us", "model us"] if device else []))
    print_closing(result, lambda r: f"{r['direction']} {r['pcs']} PCs {int(r['bytes_per_pc'])} B")
