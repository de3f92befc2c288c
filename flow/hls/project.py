"""Trained quantized Keras model -> hls4ml project with the bit-exact testbench and its vectors.

The project folder holds what Vitis HLS needs (firmware/, tsflow_tb.cpp, tb_data/) and what
``flow.csim`` needs to prove bit-exactness: the test windows as input mantissas and the reference
forward's output mantissas. ``boundaries.json`` lists every traced boundary with its type.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .backend import BACKENDS, ensure_registered
from .files import PROJECT, TB_DATA, TB_FILE
from .interface import testbench_drive, top_function
from .settings import HLS4ML_DEFAULT
from ..reference import output_of

_TESTBENCH = r"""// Bit-exact testbench: runs every test window through {top}() (hls.interface: {interface}), driven as a
// system would drive it, and compares the output mantissas with the reference forward's. Exit code 1 on
// any mismatch (also under csim_design and cosim_design).
// Usage: csim [tb_data folder] [trace folder, or "-" for none] [first window] [window count]
// (the range lets flow.csim run the split as shards in parallel processes; default: every window)
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "firmware/{project}.h"
#include "firmware/nnet_utils/tsflow_trace.h"

static std::vector<int32_t> read_all(const std::string &path) {{
    std::vector<int32_t> data;
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) {{ std::fprintf(stderr, "cannot open %s\n", path.c_str()); return data; }}
    int32_t v;
    while (std::fread(&v, sizeof(v), 1, f) == 1) data.push_back(v);
    std::fclose(f);
    return data;
}}

// a window index or count from argv, or -1 if it is not a plain decimal number
static long window_arg(const char *text) {{
    char *end = 0;
    long value = std::strtol(text, &end, 10);
    return (end == text || *end || value < 0 || value > 0x7fffffffL) ? -1 : value;
}}

int main(int argc, char **argv) {{
    const std::string dir = argc > 1 ? argv[1] : "{tb_data}";
    const unsigned n_in = {n_in}, n_out = {n_out};
    std::vector<int32_t> inputs = read_all(dir + "/inputs.bin"), expected = read_all(dir + "/expected.bin");
    const unsigned total = inputs.size() / n_in;
    if (total == 0 || expected.size() != (size_t)total * n_out) {{
        std::fprintf(stderr, "test vectors missing or inconsistent in %s\n", dir.c_str());
        return 2;
    }}
    if (argc > 2 && argv[2][0] && std::string(argv[2]) != "-") tsflow::trace_to(argv[2]);  // "-": no trace
    long begin = 0, samples = total;
    if (argc > 3) begin = window_arg(argv[3]);
    if (argc > 4) samples = window_arg(argv[4]);
    else if (begin >= 0) samples = (long)total - begin;
    if (begin < 0 || begin >= (long)total || samples < 1 || samples > (long)total - begin) {{
        std::fprintf(stderr, "window range %s + %s outside the %u test windows\n", argc > 3 ? argv[3] : "0",
                     argc > 4 ? argv[4] : "all", total);
        return 2;
    }}
    unsigned mismatches = 0;
    long first = -1;
    double max_abs_diff = 0;
    for (long s = begin; s < begin + samples; s++) {{
        int32_t got[n_out];
{drive}        bool bad = false;
        for (unsigned j = 0; j < n_out; j++) {{
            int32_t want = expected[(size_t)s * n_out + j];
            double diff = std::fabs(std::ldexp((double)got[j] - want, -({output_t}::width - {output_t}::iwidth)));
            if (diff > max_abs_diff) max_abs_diff = diff;
            bad = bad || got[j] != want;
        }}
        if (bad && first < 0) first = s;
        mismatches += bad;
    }}
    tsflow::trace_close();
    std::printf("{{\"samples\": %ld, \"mismatches\": %u, \"first_mismatch\": %ld, \"max_abs_diff\": %.17g}}\n",
                samples, mismatches, first, max_abs_diff);
    return mismatches ? 1 : 0;
}}
"""


@dataclass
class Project:
    """A written HLS project and the reference trace its C simulation is checked against."""

    folder: Path
    hls_model: object
    reference: dict  # boundary name -> flow.reference.Boundary over the test windows


def hls_config(prec, model) -> dict:
    """hls4ml's configuration: the window port in the model's input type; every tsflow setting is 'auto'
    (the model's tsflow configuration decides, ``flow.hls.settings``)."""
    names = {model.layers[0].name: {"Precision": {"result": prec.types["input"]["output"].cpp()}}}
    return {"Model": {"Precision": {"default": HLS4ML_DEFAULT}, "ReuseFactor": 1, "Strategy": "Latency"},
            "LayerName": names}


def write_project(cfg, model, prec, reference: dict, folder: Path, plan: dict) -> Project:
    """Convert ``model`` through the tsflow backend into the design ``plan`` (``Estimate.plan_dict()``)
    describes (the plan pass plans it again from ``cfg``, and it must come out the same), and write
    firmware, testbench and vectors."""
    import hls4ml

    ensure_registered()
    folder = Path(folder)
    model.tsflow_config = cfg  # this build's hls and target sections (a reused model keeps its training)
    hls_model = hls4ml.converters.convert_from_keras_model(
        model, output_dir=str(folder), project_name=PROJECT, backend=BACKENDS[cfg.hls.tool],
        part=cfg.target.part, clock_period=round(1000.0 / cfg.target.clock_mhz, 3), io_type="io_parallel",
        write_weights_txt=False, hls_config=hls_config(prec, model))
    placed = next(node.get_attr("tsflow_plan") for node in hls_model.get_layers() if node.get_attr("tsflow_plan"))
    if placed != plan:
        raise RuntimeError("the hls4ml plan pass planned another design than the estimate priced")
    hls_model.write()
    x_in = reference["input"]
    y = output_of(reference)
    n, n_in = x_in.mantissa.shape[0], int(np.prod(x_in.mantissa.shape[1:]))
    tb = folder / TB_DATA
    tb.mkdir(exist_ok=True)
    x_in.mantissa.reshape(n, n_in).astype(np.int32).tofile(tb / "inputs.bin")
    y.mantissa.reshape(n, -1).astype(np.int32).tofile(tb / "expected.bin")
    inp, out = hls_model.get_input_variables()[0], hls_model.get_output_variables()[0]
    interface = cfg.hls.interface
    (folder / TB_FILE).write_text(_TESTBENCH.format(
        project=PROJECT, tb_data=TB_DATA, n_in=n_in, n_out=int(np.prod(y.mantissa.shape[1:])),
        output_t=out.type.name, top=top_function(interface, PROJECT), interface=interface,
        drive=testbench_drive(interface, PROJECT, inp.type.name, out.type.name)))
    boundaries = {name: {"type": b.type.to_dict(), "per_sample": int(np.prod(b.mantissa.shape[1:]))}
                  for name, b in reference.items()}
    (folder / "boundaries.json").write_text(json.dumps(boundaries, indent=1))
    return Project(folder, hls_model, reference)
