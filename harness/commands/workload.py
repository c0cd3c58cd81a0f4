"""`harness workload smolvla`: the op list of one inference, with totals per stage."""
from __future__ import annotations

import argparse
import json
import sys

from harness.commands.workload_args import add_workload_args, config_from_args
from harness.workload.precision import PRECISIONS, check_precision
from harness.workload.smolvla import STAGES, WORKLOADS, build_workload


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "workload",
        help="print the op table of one inference (FLOPs, bytes, operational intensity)",
        description="One inference at batch size 1 as a list of ops: stage, M x K x N, "
        "calls, FLOPs and bytes moved at a precision (counting conventions: "
        "harness/docs/smolvla.md). Figures are from the workload model (source: model).",
    )
    p.add_argument("workload", metavar="WORKLOAD", help=f"one of: {', '.join(WORKLOADS)}")
    p.add_argument("--precision", default="fp32",
                   help=f"element type for the byte counts: {', '.join(PRECISIONS)} (default fp32)")
    p.add_argument("--json", action="store_true", help="print the op table and totals as JSON")
    add_workload_args(p)
    p.set_defaults(func=run)


def workload_json(wl, precision: str) -> dict:
    return {
        "workload": wl.name,
        "precision": precision,
        "source": "model",
        "detail": "harness.workload (counting conventions: harness/docs/smolvla.md)",
        "config": {k: v for k, v in vars(wl.config).items()},
        "prefix_tokens": wl.config.prefix_tokens,
        "ops": wl.rows(precision),
        "totals": wl.totals(precision),
    }


def format_table(wl, precision: str) -> str:
    rows = wl.rows(precision)
    hdr = ("stage", "name", "M", "K", "N", "count", "GFLOP_total", "MB_total", "oi_FLOPpB")
    lines = [f"{hdr[0]:<7} {hdr[1]:<28} {hdr[2]:>6} {hdr[3]:>6} {hdr[4]:>6} {hdr[5]:>6} "
             f"{hdr[6]:>12} {hdr[7]:>10} {hdr[8]:>10}"]
    for r in rows:
        lines.append(f"{r['stage']:<7} {r['name']:<28} {r['M']:>6} {str(r['K']):>6} {r['N']:>6} "
                     f"{r['count']:>6} {r['flop_total'] / 1e9:>12.3f} {r['bytes_total'] / 1e6:>10.2f} "
                     f"{r['oi_FLOPpB']:>10.2f}")
    t = wl.totals(precision)
    lines.append("")
    lines.append(f"totals at {precision} (source: model; MB = 1e6 B)")
    lines.append(f"{'stage':<8} {'GFLOP':>10} {'GEMM GFLOP':>11} {'MB':>10} {'oi_FLOPpB':>10} {'launches':>9}")
    for s in (*STAGES, "overall"):
        x = t[s]
        lines.append(f"{s:<8} {x['gflop']:>10.2f} {x['gemm_gflop']:>11.2f} {x['mb']:>10.1f} "
                     f"{x['oi_FLOPpB']:>10.2f} {x['launches']:>9}")
    c = wl.config
    lines.append(f"prefix tokens P = {c.cameras} cameras x {c.image_tokens} + {c.lang_tokens} "
                 f"language + {c.state_tokens} state = {c.prefix_tokens}; "
                 f"{c.num_steps} denoising steps over {c.chunk_size} action tokens")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    wl = build_workload(args.workload, config_from_args(args))
    precision = check_precision(args.precision)
    if args.json:
        json.dump(workload_json(wl, precision), sys.stdout, indent=2)
        print()
    else:
        print(format_table(wl, precision))
    return 0
