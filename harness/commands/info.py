"""`harness info`: the device, shell, clocks, memories, kernels, CUs and their connectivity."""
from __future__ import annotations

import json

from harness.designs import load_design
from harness.errors import UserError
from harness.runtime import DEFAULT_PLATFORM, MODES, open_runtime
from harness.runtime.info import device_context
from harness.runtime.session import Session


def register(sub) -> None:
    p = sub.add_parser("info", help="show the device, shell, memory banks, kernels, CUs and connectivity")
    p.add_argument("--mode", choices=MODES, default=None, help="as for the benches (default: hw if found, else emu)")
    p.add_argument("--device", default="0", help="device index or BDF (default 0)")
    p.add_argument("--xclbin", default=None, help="xclbin to load and describe (default: the memcpy design's)")
    p.add_argument("--design", default="memcpy", help="design whose xclbin to describe (default memcpy)")
    p.add_argument("--vitis-platform", default=DEFAULT_PLATFORM,
                   help=f"platform the xclbins were built for (default {DEFAULT_PLATFORM})")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def _connectivity(sess, design) -> dict:
    """Bank of every memory argument of every CU, as the loaded xclbin reports it (group_id). A port
    the design file puts on a PC range is shown as that range (HBM[0:31].6) when group_id answers
    as XRT does for one (the range's last bank: harness/docs/xrt-and-vitis.md 1.8)."""
    tag_of = {i: t for t, i in sess.mem_index.items()}
    out = {}
    for k in design.kernels.values():
        for cu in range(k.cus):
            kern = sess.kernel(k.name, cu)
            ports = {}
            for i, a in enumerate(k.args):
                if a.kind != "ptr":
                    continue
                tag = tag_of.get(kern.group_id(i), f"memory {kern.group_id(i)}")
                reach = a.reach_for(cu)
                ports[a.name] = str(reach) if reach.is_range and tag == reach.tags[-1] else tag
            out[f"{k.name}_{cu + 1}"] = ports
    return out


def run(args) -> int:
    rt = open_runtime(args.mode, args.device, vitis_platform=args.vitis_platform)
    design = load_design(args.design, target=rt.mode)
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
    plat = dev["platform"]
    print(f"shell           {dev['shell'] or (plat.get('unavailable') if isinstance(plat, dict) else plat)}")
    clocks = dev["clocks"]
    if isinstance(clocks, list):
        print("clocks          " + ", ".join(f"{c['id']} ({c['description']}) {c['freq_mhz']:g} MHz" for c in clocks))
        data = next((c for c in clocks if c["description"].lower() == "data"), None)
        if data:
            print(f"kernel clock    {data['freq_mhz']:g} MHz ({data['id']}: the HLS kernels' ap_clk)")
    else:
        print(f"clocks          {clocks.get('unavailable')} (load an xclbin to read them)")
    print(f"max clock       {dev['max_clock_frequency_mhz']} MHz (max_clock_frequency_mhz: the shell's fastest "
          "clock, not the kernels')")
    ini = rt.xrt_ini
    print(f"xrt.ini         {ini['path'] + ' (' + ini['found_by'] + ')' if ini else 'none found'}")
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
