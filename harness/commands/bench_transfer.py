"""`harness bench transfer`: host-to-device and device-to-host bandwidth and latency per size and bank."""
from __future__ import annotations

import argparse

from harness.commands.options import add_common, distinct, parse_word_sizes, run_options, xrt_emulation
from harness.commands.report import print_closing, print_table, timing_label, us

HELP = "host-to-device and device-to-host bandwidth and latency per buffer size and bank"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common(p)
    p.add_argument("--sizes", default=None,
                   help="bytes per transfer: a doubling range LO..HI or a list (K/M/G suffixes, multiples of 8 B; "
                        "default 64..256M, 64..1M in hw_emu/sw_emu)")
    p.add_argument("--banks", default=None,
                   help="memories to transfer to and from, a comma list of tags like HBM[0],HBM[31],DDR[0] "
                        "(each must be used by the xclbin; default: its first and last HBM PC and a DDR bank "
                        "if it uses one)")


def plan_from_args(args):
    from harness.bench import transfer as tr
    opts = run_options(args)
    emulation = xrt_emulation(args)
    sizes = parse_word_sizes(args.sizes if args.sizes is not None else
                             (tr.EMULATION_SIZES if emulation else tr.DEFAULT_SIZES),
                             tr.WORD_BYTES, "data are checked as 64-bit words", "64..256M")
    banks = tr.check_bank_names(args.banks)
    banks = distinct(banks, "--banks") if banks else banks     # a repeat runs once, with a note
    return tr.TransferPlan(sizes, banks, opts, target=emulation)


def run(args) -> int:
    from harness.bench import transfer as tr
    result = tr.run(plan_from_args(args))
    report(result)
    return 0


def report(result) -> None:
    """Per direction and bank: latency (the smallest size's time), the bandwidth at 1 MiB and the best,
    each beside the model's."""
    s = result.summary
    print(f"\nhost transfers (one bo.sync each), decimal GB/s, {timing_label(result.timing_source)}; "
          "model: harness.model.predict_transfer")
    rows = []
    for (d, bank), g in s.groupby(["direction", "bank"], sort=False):
        ok = g[g["verified"].astype(bool)].sort_values("bytes")
        if ok.empty:
            rows.append([d, bank, "-", "-", "-", "-", "-", "-", "-", f"0/{len(g)} sizes verified: FAILED"])
            continue
        small = ok.iloc[0]
        mib = ok[ok["bytes"] == 1 << 20]
        mib = mib.iloc[0] if len(mib) else None
        best = ok.loc[ok["bandwidth_GBps_median"].idxmax()]

        def model_bw(r):
            return f"{r['bytes'] / r['model_time_s'] / 1e9:.2f}"
        rows.append([d, bank, f"{int(small['bytes']):,}", us(small["time_s_median"], 2), us(small["model_time_s"], 2),
                     f"{mib['bandwidth_GBps_median']:.2f}" if mib is not None else "-",
                     model_bw(mib) if mib is not None else "-",
                     f"{best['bandwidth_GBps_median']:.2f} at {int(best['bytes']):,} B", model_bw(best),
                     f"{len(ok)}/{len(g)} sizes verified"])
    print_table(rows, ["direction", "bank", "smallest B", "time us", "model us", "GB/s at 1 MiB", "model GB/s",
                       "best GB/s (median)", "model GB/s", "verification"])
    print_closing(result, lambda r: f"{r['direction']} {r['bank']} {int(r['bytes'])} B")
