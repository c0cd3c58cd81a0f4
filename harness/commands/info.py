"""`harness info`: the device, shell, clocks, memories, kernels, CUs and their connectivity."""
from __future__ import annotations

import json

from harness.designs import load_design
from harness.errors import UserError
from harness.runtime import MODES, open_runtime
from harness.runtime.info import device_context
from harness.runtime.session import Session


def register(sub) -> None:
    p = sub.add_parser("info", help="show the device, shell, memory banks, kernels, CUs and connectivity")
    p.add_argument("--mode", choices=MODES, default=None, help="as for the benches (default: hw if found, else emu)")
    p.add_argument("--device", default="0", help="device index or BDF (default 0)")
    p.add_argument("--xclbin", default=None, help="xclbin to load and describe (default: the memcpy design's)")
    p.add_argument("--design", default="memcpy", help="design whose xclbin to describe (default memcpy)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def _connectivity(sess, design) -> dict:
    """Bank of every memory argument of every CU, as the loaded xclbin reports it (group_id)."""
    tag_of = {i: t for t, i in sess.mem_index.items()}
    out = {}
    for k in design.kernels.values():
        for cu in range(k.cus):
            kern = sess.kernel(k.name, cu)
            out[f"{k.name}_{cu + 1}"] = {a.name: tag_of.get(kern.group_id(i), f"memory {kern.group_id(i)}")
                                         for i, a in enumerate(k.args) if a.kind == "ptr"}
    return out


def run(args) -> int:
    rt = open_runtime(args.mode, args.device)
    design = load_design(args.design)
    try:
        sess = Session(rt, design, args.xclbin)
    except UserError as exc:
        if args.xclbin:          # an xclbin was asked for: that is an error
            raise
        sess = None              # no xclbin built yet: still describe the device
        missing = str(exc)
    dev = device_context(rt, sess)
    conn = _connectivity(sess, design) if sess else {}
    if args.json:
        print(json.dumps({"mode": rt.mode, "device": dev, "connectivity": conn}, indent=2, default=str))
        return 0
    print(f"mode            {rt.mode} (timings: {rt.timing_source})")
    print(f"device          {dev['name']}  bdf {dev['bdf']}")
    shell = dev["platform"]
    print(f"shell           {json.dumps(shell)[:120] if not isinstance(shell, str) else shell}")
    print(f"kernel clock    {dev['max_clock_frequency_mhz']} MHz (max_clock_frequency_mhz)")
    if sess is None:
        print(f"xclbin          none loaded: {missing}")
        return 0
    xb = dev["xclbin"]
    print(f"xclbin          {xb['path']}\n  uuid          {xb['uuid']}\n  xsa           {xb['xsa_name']}")
    used = [m for m in xb["memories"] if m["used"]]
    print(f"memories        {len(xb['memories'])} in the xclbin, {len(used)} connected to a CU port:")
    for m in xb["memories"]:
        print(f"  {m['tag']:<10} index {m['index']:>2}  {m['size_kb'] / 1024:>8,.0f} MiB"
              f"  {'connected' if m['used'] else '-'}")
    print("kernels         " + ", ".join(f"{k['name']} ({k['num_args']} args)" for k in xb["kernels"]))
    print("compute units and connectivity (from the xclbin, kernel.group_id):")
    for cu, ports in conn.items():
        print(f"  {cu:<16} " + ("  ".join(f"{p}->{b}" for p, b in ports.items()) or "(no memory ports)"))
    for n in rt.notes:
        print(f"note: {n}")
    return 0
