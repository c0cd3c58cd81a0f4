"""`harness bench memcpy`: achieved HBM bandwidth per direction, PC count and size."""
from __future__ import annotations

import argparse

from harness.commands.options import (add_common, distinct, parse_int_list, parse_size, parse_sizes,
                                      parse_word_sizes, run_options,
                                      xrt_emulation)
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
    p.add_argument("--pattern", default=None, metavar="PATTERNS",
                   help="seq, stride or random, or a comma list (default seq: today's sweep). stride and "
                        "random run transactions of --txn-bytes at --sizes 64M on one CU (1 PC, copy 2) unless "
                        "--sizes/--pcs say")
    p.add_argument("--txn-bytes", default=None, metavar="SIZES",
                   help="bytes per transaction (stride, random): powers of two from 64 to 4K, a list like "
                        "64,128,...,4K or 64..4K (default 64..4K)")
    p.add_argument("--stride", default=None, metavar="BYTES",
                   help="--pattern stride: bytes from one transaction's start to the next, a multiple of 64 at "
                        "least the transaction size, or a list (default twice each transaction size)")
    p.add_argument("--seed", default=None, help="--pattern random: the in-kernel generator's seed, 0..2^32-1 "
                                               "(default 1; kept in context.json as pattern_seed)")
    p.add_argument("--target-pc", default=None, metavar="TARGETS",
                   help="where the buffers under test lie, seen from each CU's own port: local, same-group "
                        "(another PC of its 4x4 switch group), other-group (the neighbouring group: lateral "
                        "traffic), or a PC number 0-31 for every CU; a comma list sweeps them, all: every PC "
                        "(default: local)")
    p.add_argument("--port-pc", default=None, metavar="PORTS",
                   help="drive one CU at a time, the one whose port under test is next to each of these PCs "
                        "(read, copy: in ports, even PCs 0-30; write: out ports, odd PCs 1-31), a comma list or "
                        "all: with --target-pc all, a port PC x target PC matrix (default size 256K, "
                        "emulated 16K)")
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
    access = parse_access(args)       # [(pattern, txn_bytes, stride_bytes)]
    patterned = any(a[0] != "seq" for a in access)
    default_sizes = args.sizes is None
    if default_sizes and args.port_pc is not None:      # a matrix of up to 16 x 32 points: small ones
        default = mc.PORT_SWEEP_EMU_SIZES if emulation or args.mode == "emu" else mc.PORT_SWEEP_SIZES
    elif default_sizes and patterned:
        default = mc.EMULATION_SIZES if emulation else mc.PATTERN_SIZES
    else:
        default = mc.EMULATION_SIZES if emulation else mc.DEFAULT_SIZES
    sizes = parse_word_sizes(args.sizes if args.sizes is not None else default, mc.WORD_BYTES, "one 512-bit word",
                             "4K..256M")
    for s in sizes:
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
    for pattern, txn, _ in access:
        for s in sizes if pattern != "seq" else ():
            if s & (s - 1):
                raise UserError(f"--sizes {s} with --pattern {pattern}: the kernel masks addresses, so use a "
                                f"power of two, e.g. {1 << (s.bit_length() - 1)}")
            if s < txn:
                raise UserError(f"--sizes {s} is smaller than --txn-bytes {txn}; use sizes of at least {txn}")
    explicit = args.pcs is not None
    pcs_list = parse_int_list(args.pcs, "--pcs") if explicit else mc.DEFAULT_PCS
    notes = []
    port_of = parse_ports(args.port_pc, directions, kern, n_pcs, notes)   # direction -> [(port PC, CU)] or None
    if port_of is not None and explicit:
        raise UserError("--port-pc drives one CU at a time (1 PC; copy 2): drop --pcs")
    for pcs in pcs_list if port_of is None else ():
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
    # stride/random without --pcs: the fewest PCs a direction drives (one CU), the per-PC question
    pcs_of = (lambda d: pcs_list) if explicit or not patterned else (lambda d: [2 if d == "copy" else 1])  # noqa: E731
    targets = parse_targets(args.target_pc, n_pcs)
    if port_of is None:
        points = [mc.MemcpyPoint(d, pcs, s, reps_of(s), pattern, txn, stride, t)
                  for t in targets for pattern, txn, stride in access
                  for d in directions for pcs in pcs_of(d) if mc.fits(d, pcs, cus) for s in sizes]
        if default_sizes and targets != ["local"]:
            # The default sweep ends at a whole PC, which another CU's buffer beside a port's own words
            # (or every CU's in one PC) cannot share: stop each target's sweep at the largest size that fits.
            points = _fitting_defaults(targets, points, kern, pc_bytes, notes)
    else:
        points = [mc.MemcpyPoint(d, 2 if d == "copy" else 1, s, reps_of(s), pattern, txn, stride, t, port, cu)
                  for port_pcs in [sorted({pp for d in directions for pp, _ in port_of[d]})]
                  for pp in port_pcs for t in targets for pattern, txn, stride in access
                  for d in directions for port, cu in port_of[d] if port == pp for s in sizes]
    for key in dict.fromkeys((p.target, p.first_cu) for p in points):
        _check_fits(key[0], [p for p in points if (p.target, p.first_cu) == key], kern, pc_bytes)
    # mode auto may turn out to be the emulator: then a default-sized matrix runs at its emulated size
    emu_size = parse_size(mc.PORT_SWEEP_EMU_SIZES, "--sizes") \
        if default_sizes and port_of is not None and args.mode is None and not emulation else None
    if not points:          # never a run directory with nothing in it
        raise UserError("no (direction, --pcs) combination can run; see `harness bench memcpy --help`")
    return mc.MemcpyPlan(points, opts, target=emulation,
                         default_sizes=default_sizes and not emulation and not patterned and port_of is None,
                         notes=tuple(notes), seed=parse_seed(args.seed),
                         emu_size=emu_size, emu_reps=reps_of(emu_size) if emu_size else None)


def parse_seed(text) -> int:
    from harness.bench import memcpy as mc
    if text is None:
        return mc.DEFAULT_SEED
    try:
        seed = int(str(text).strip(), 0)
    except ValueError:
        seed = -1
    if not 0 <= seed <= 2 ** 32 - 1:
        raise UserError(f"--seed {text!r}: use a whole number from 0 to 4294967295 (a 32-bit kernel argument)")
    return seed


def parse_size_list(text: str, what: str) -> list[int]:
    """'64,128,...,4K' (the ratio of the two sizes before '...' continues up to the one after),
    '64..4K' (doubling) or '64,256'."""
    if "..." not in text:
        return parse_sizes(text, what)
    items = [t.strip() for t in text.split(",") if t.strip()]
    out: list[int] = []
    for i, t in enumerate(items):
        if t != "...":
            out.append(parse_size(t, what))
            continue
        if len(out) < 2 or i + 1 >= len(items) or items[i + 1] == "..." or out[-2] <= 0 or out[-1] <= out[-2]:
            raise UserError(f"{what} {text!r}: '...' needs two rising sizes before it and one after, "
                            "e.g. 64,128,...,4K")
        hi, ratio = parse_size(items[i + 1], what), out[-1] / out[-2]
        while out[-1] * ratio < hi:
            out.append(int(out[-1] * ratio))
    return distinct(out, what)


def parse_access(args) -> list[tuple]:
    """(pattern, txn_bytes, stride_bytes) of every access pattern to run; seq alone by default."""
    from harness.bench import memcpy as mc
    patterns = []
    for v in (args.pattern if args.pattern is not None else "seq").split(","):
        v = v.strip().lower()
        if v and v not in mc.PATTERNS:
            raise UserError(f"--pattern: invalid choice {v!r}; use {', '.join(mc.PATTERNS)}, or a comma list "
                            "like seq,random")
        if v:
            patterns.append(v)
    if not patterns:
        raise UserError(f"--pattern is empty; use {', '.join(mc.PATTERNS)}, or a comma list like seq,random")
    patterns = list(dict.fromkeys(patterns))
    if all(p == "seq" for p in patterns):
        for flag, v in (("--txn-bytes", args.txn_bytes), ("--stride", args.stride), ("--seed", args.seed)):
            if v is not None:
                raise UserError(f"{flag} applies to --pattern stride or random; add --pattern random (or stride)")
    if args.stride is not None and "stride" not in patterns:
        raise UserError("--stride applies to --pattern stride; add --pattern stride")
    txns = parse_size_list(args.txn_bytes if args.txn_bytes is not None else mc.DEFAULT_TXN, "--txn-bytes")
    if not txns:
        raise UserError("--txn-bytes is empty; give sizes like 64,128,...,4K")
    for t in txns:
        if t < mc.WORD_BYTES or t > mc.MAX_TXN_BYTES or t & (t - 1):
            raise UserError(f"--txn-bytes {t}: use a power of two from {mc.WORD_BYTES} to {mc.MAX_TXN_BYTES} "
                            "(64 B words, AXI's 4 KiB burst limit), e.g. 64,128,...,4K")
    strides = parse_size_list(args.stride, "--stride") if args.stride is not None else None
    for st in strides or ():
        if st <= 0 or st % mc.WORD_BYTES:
            raise UserError(f"--stride {st}: use a positive multiple of {mc.WORD_BYTES} B (one 512-bit word), "
                            f"e.g. {max(64, st // 64 * 64)}")
        if st < max(txns):
            raise UserError(f"--stride {st} is smaller than --txn-bytes {max(txns)}; use a stride of at least "
                            "the transaction size (a smaller one re-reads the same words)")
    out = []
    for p in patterns:
        if p == "seq":
            out.append(("seq", None, None))
        elif p == "random":
            out += [("random", t, None) for t in txns]
        else:
            out += [("stride", t, st) for t in txns for st in (strides or [2 * t])]
    return out


def parse_targets(value: str | None, n_pcs: int) -> list[str]:
    """--target-pc local,same-group,other-group,5: those names and PC numbers, in order, without repeats."""
    from harness.model import TARGETS
    if value is None:
        return ["local"]
    out = []
    for t in (x.strip() for x in value.split(",")):
        if t.lower() == "all":                  # every PC, as numbers (a port PC x target PC row each)
            out += [str(pc) for pc in range(n_pcs)]
        elif t in TARGETS:
            out.append(t)
        elif t.isdigit() and int(t) < n_pcs:
            out.append(str(int(t)))
        else:
            raise UserError(f"--target-pc {t or value!r}: use {', '.join(TARGETS)} or a PC number 0 to {n_pcs - 1}, "
                            "or a comma list like local,other-group, or all")
    return list(dict.fromkeys(out))


def parse_ports(value: str | None, directions: list[str], kern, n_pcs: int, notes: list):
    """--port-pc LIST|all: {direction: [(port PC, CU)]}, the CUs whose first port under test is next to
    those PCs (harness.bench.memcpy.port_cus); None without --port-pc. A PC that suits only some of the
    directions runs for those (a note names the others); one that suits none is refused."""
    from harness.bench import memcpy as mc
    if value is None:
        return None
    have = {d: mc.port_cus(kern, d) for d in directions}
    text = value.strip().lower()
    if text == "all":
        return {d: sorted(have[d].items()) for d in directions}
    wanted = []
    for t in (x.strip() for x in value.split(",")):
        if not (t.isdigit() and int(t) < n_pcs):
            raise UserError(f"--port-pc {t or value!r}: use PC numbers 0 to {n_pcs - 1}, a comma list like 0,8,16, "
                            "or all")
        wanted.append(int(t))
    wanted = list(dict.fromkeys(wanted))
    for pc in wanted:
        cannot = [d for d in directions if pc not in have[d]]
        if len(cannot) == len(directions):
            raise UserError(f"--port-pc {pc}: no {'/'.join(directions)} port of bw_memcpy is next to PC {pc}; "
                            + "; ".join(f"{d} drives {mc.PORTS_UNDER_TEST[d][0]} ports next to PCs "
                                        f"{_pc_span(sorted(have[d]))}" for d in directions))
        if cannot:
            notes.append(f"{', '.join(cannot)} not run from port PC {pc}: no {mc.PORTS_UNDER_TEST[cannot[0]][0]} "
                         "port there")
    return {d: [(pc, have[d][pc]) for pc in wanted if pc in have[d]] for d in directions}


def _pc_span(pcs: list[int]) -> str:
    if len(pcs) > 2 and len({b - a for a, b in zip(pcs, pcs[1:])}) == 1:
        return f"{pcs[0]}, {pcs[1]}, ..., {pcs[-1]}"
    return ", ".join(map(str, pcs))


def _fitting_defaults(targets: list[str], points: list, kern, pc_bytes: int, notes: list) -> list:
    """The points up to the largest default size whose buffers fit for every target (one size range
    for all, so the heat map compares targets at one size); the sizes left out named in a note."""
    from harness.bench import memcpy as mc
    from harness.model import load_platform
    plat = load_platform("u280")
    sizes = sorted({p.bytes_per_pc for p in points})
    top, why = sizes[-1], None
    for t in targets:
        mine = [p for p in points if p.target == t]
        fits = [s for s in sizes if s <= top and max(
            mc.pc_loads(kern, plat, [p for p in mine if p.bytes_per_pc <= s]).values(), default=0) <= pc_bytes]
        if not fits:
            return points        # not even the smallest fits: _check_fits says so
        if fits[-1] < top:
            top, why = fits[-1], t
    if why is not None:
        notes.append(f"sizes above {mc.size_label(top)} per PC not run: with --target-pc {why} their buffers do not fit "
                     "the PCs they share; give --sizes to choose")
    return [p for p in points if p.bytes_per_pc <= top]


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
    import json
    summary = result.summary
    if "port_pc" in json.loads((result.path / "context.json").read_text()):
        report_ports(result)                                 # --port-pc: a matrix, summed up per relation
        print_closing(result, lambda r: f"{r['direction']} port PC {int(r['port_pc'])} -> PC {int(r['target_pc'])}"
                      f" {int(r['bytes_per_pc'])} B")
        return
    if "pattern" in summary.columns and (summary["pattern"] != "seq").any():
        report_patterns(result)                              # stride/random points beside the model
        summary = summary[summary["pattern"] == "seq"]
    if not summary.empty:
        report_seq(result, summary)
    print_closing(result, lambda r: f"{r['direction']} {r['pcs']} PCs {int(r['bytes_per_pc'])} B"
                  + (f" {r['pattern']} {int(r['txn_bytes'])} B" if r.get("pattern", "seq") != "seq" else ""))


def report_seq(result, summary) -> None:
    """The best bandwidth per direction, PC count and target (the sequential sweep), beside the model's."""
    from harness import model
    from harness.results.points import modeled_memcpy_GBps as modeled_GBps
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


def report_ports(result) -> None:
    """--port-pc: the port PC x target PC matrix per direction and access, summed up per switch
    relation (every cell is in summary.csv and in `harness plot`'s heat map): the verified figures'
    range beside the model's for the same cells."""
    import numpy as np
    from harness import model
    from harness.results.points import modeled_memcpy_GBps as modeled_GBps
    plat = model.load_platform("u280")
    dispatch_s = model.dispatch_overhead(plat).value
    s = result.summary.copy()
    s["relation"] = [model.switch_target(plat, int(p), int(t)) for p, t in zip(s["port_pc"], s["target_pc"])]
    s["access"] = [p if p == "seq" else f"{p} {int(t)} B" for p, t in zip(s["pattern"], s["txn_bytes"])]
    order = {k: i for i, k in enumerate([*mc_directions(), *model.TARGETS])}
    s = s.sort_values(["direction", "relation"], key=lambda c: c.map(order), kind="stable")
    what = "measured" if result.timing_source == "measured" else "emulated"
    print(f"\nmemcpy port PC x target PC, one CU at a time, GB/s ({timing_label(result.timing_source)}) beside "
          "harness.model's; min / median / max over the cells of each switch relation")
    rows = []
    for (d, acc, size, rel), g in s.groupby(["direction", "access", "bytes_per_pc", "relation"], sort=False):
        ok = g[g["verified"]]
        mod = [modeled_GBps(r, dispatch_s) for _, r in ok.iterrows()]
        rng = (lambda v: f"{min(v):.2f} / {float(np.median(v)):.2f} / {max(v):.2f}" if len(v) else "-")
        rows.append([d, acc, f"{int(size):,}", rel, f"{len(g)} ({g['port_pc'].nunique()} ports)",
                     rng(list(ok["bandwidth_GBps_best"])), rng([m for m in mod if m]),
                     f"{len(ok)}/{len(g)} cells verified"])
    print_table(rows, ["direction", "access", "bytes/PC", "relation", "cells", f"{what} GB/s",
                       "model GB/s", "verification"])
    print(f"the whole matrix: `harness plot {result.path}` ({result.path.name}-switch.png)")


def mc_directions() -> list[str]:
    from harness.bench import memcpy as mc
    return list(mc.DIRECTIONS)


def report_patterns(result) -> None:
    """Every stride/random point beside the model's prediction of the same point and the ceiling
    that binds it (the emulator's figure is that prediction: the ratio is 1 by construction in
    --mode emu)."""
    import json
    from harness.bench import memcpy as mc
    ctx = json.loads((result.path / "context.json").read_text())
    _, kern, plat, _, _ = mc.memcpy_design()
    s = result.summary
    s = s[s["pattern"] != "seq"]
    away = "target_pc" in s and bool((s["target_pc"] != s["port_pc"]).any())     # --target-pc
    label = timing_label(result.timing_source)
    print(f"\naccess patterns, decimal GB/s: {label} beside the model (harness.model)")
    rows = []
    for _, r in s.iterrows():
        stride = r["stride_bytes"]
        stride = int(stride) if stride == stride and stride is not None else None
        pt = mc.MemcpyPoint(r["direction"], int(r["pcs"]), int(r["bytes_per_pc"]), int(r["kernel_reps"]),
                            r["pattern"], int(r["txn_bytes"]), stride,
                            mc.target_of(plat, r.get("port_pc"), r.get("target_pc"), ctx.get("target_pc")))
        limit = mc.predict_point(plat, kern, ctx["design"]["params"], ctx["clock_mhz"], pt).limit
        model_GBps = mc.modeled_point_GBps(r)
        got = r["bandwidth_GBps_median"] if r["verified"] else None
        rows.append([r["pattern"], r["direction"], int(r["pcs"])]
                    + ([target_label(r["port_pc"], r["target_pc"])] if away else []) + [f"{int(r['bytes_per_pc']):,}",
                     f"{int(r['txn_bytes']):,}", f"{stride:,}" if stride else "-",
                     f"{got:.2f}" if got is not None else "FAILED verification", f"{model_GBps:.2f}",
                     f"{got / model_GBps:.2f}" if got is not None and model_GBps > 0 else "-", limit])
    what = "measured" if result.timing_source == "measured" else "emulated"
    print_table(rows, ["pattern", "direction", "PCs"] + (["target (CU 1)"] if away else []) + [
                       "bytes/PC", "txn B", "stride B", f"{what} GB/s",
                       "model GB/s", f"{what}/model", "model's limit"])
