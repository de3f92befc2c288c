"""hls4ml backends 'TSFlowVitis' and 'TSFlowVivado' with their writers, loaded as an hls4ml plugin.

They are hls4ml's Vitis / Vivado backends plus the tsflow layers, with a writer that changes two
things: each intermediate buffer gets the storage asked for in the YAML (BIND_STORAGE for Vitis HLS,
RESOURCE for Vivado HLS, a complete partition for registers, nothing for auto), and the top function
has no function-level PIPELINE/DATAFLOW, so the layers run one after another with their own loops.
pyproject.toml publishes it (through ``flow.hls.plugin``) under the ``hls4ml.backends`` entry-point group.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from hls4ml.backends import VitisBackend, VivadoBackend
from hls4ml.backends.fpga.fpga_backend import FPGABackend
from hls4ml.model.flow import get_flow, register_flow
from hls4ml.writer.vitis_writer import VitisWriter
from hls4ml.writer.vivado_writer import VivadoWriter

TEMPLATES = Path(str(files("flow.hls_templates")))
BACKENDS = {"vitis": "TSFlowVitis", "vivado": "TSFlowVivado"}

_STORAGE_PRAGMA = {
    "vitis": {"bram": "#pragma HLS BIND_STORAGE variable={v} type=ram_2p impl=bram",
              "lutram": "#pragma HLS BIND_STORAGE variable={v} type=ram_2p impl=lutram"},
    "vivado": {"bram": "#pragma HLS RESOURCE variable={v} core=RAM_2P_BRAM",
               "lutram": "#pragma HLS RESOURCE variable={v} core=RAM_2P_LUTRAM"},
}


def storage_pragma(dialect: str, variable: str, kind: str) -> str:
    """The pragma line for one buffer; ``auto`` leaves the choice to the tool."""
    if kind == "registers":
        return f"#pragma HLS ARRAY_PARTITION variable={variable} complete dim=0"
    if kind == "auto":
        return f"// {variable}: storage chosen by the HLS tool"
    return _STORAGE_PRAGMA[dialect][kind].format(v=variable)


class _SequentialWriterMixin:
    dialect = "vitis"

    def _make_array_pragma(self, variable):
        kind = getattr(variable, "tsflow_storage", None)
        if kind is None:
            return super()._make_array_pragma(variable)
        return storage_pragma(self.dialect, variable.name, kind)

    def write_project_cpp(self, model):
        for port in [*model.get_input_variables(), *model.get_output_variables()]:
            port.__dict__.pop("tsflow_storage", None)  # ports keep hls4ml's interface pragmas
        super().write_project_cpp(model)
        path = Path(model.config.get_output_dir()) / "firmware" / f"{model.config.get_project_name()}.cpp"
        lines = path.read_text().splitlines(keepends=True)
        kept = [ln for ln in lines if ln.strip() not in ("#pragma HLS PIPELINE", "#pragma HLS DATAFLOW")
                and not ln.strip().startswith("#pragma HLS PIPELINE II=")]
        if self.dialect == "vivado":  # tsflow::multiply picks Vivado HLS's RESOURCE pragma
            kept.insert(0, "#define TSFLOW_VIVADO_HLS\n")
        path.write_text("".join(kept))


class TSFlowVitisWriter(_SequentialWriterMixin, VitisWriter):
    dialect = "vitis"


class TSFlowVivadoWriter(_SequentialWriterMixin, VivadoWriter):
    dialect = "vivado"


def _register_flows(backend, base: str):
    """The base backend's ip flow with this backend's templates and writer."""
    templates = register_flow("apply_templates", backend._get_layer_templates, requires=["vivado:init_layers"],
                              backend=backend.name)
    backend._writer_flow = register_flow("write", ["make_stamp", f"{backend.name.lower()}:write_hls"],
                                         requires=[f"{backend.name.lower()}:ip"], backend=backend.name)
    requires = get_flow(f"{base}:ip").requires.copy()
    requires.insert(requires.index("vivado:apply_templates") + 1, templates)
    backend._default_flow = register_flow("ip", None, requires=requires, backend=backend.name)


class TSFlowVitisBackend(VitisBackend):
    def __init__(self):
        FPGABackend.__init__(self, name=BACKENDS["vitis"])
        self._register_layer_attributes()
        _register_flows(self, "vitis")


class TSFlowVivadoBackend(VivadoBackend):
    def __init__(self):
        FPGABackend.__init__(self, name=BACKENDS["vivado"])
        self._register_layer_attributes()
        _register_flows(self, "vivado")


def register(register_backend, register_writer):
    """hls4ml plugin hook: writers, backends, Keras handlers, IR layers, templates and headers."""
    # hls4ml calls this while its own packages are still importing: use the defining modules
    from hls4ml.backends.backend import get_backend
    from hls4ml.model.layers import register_layer

    from .layers import IR_LAYERS, template_classes

    register_writer(BACKENDS["vitis"], TSFlowVitisWriter)
    register_writer(BACKENDS["vivado"], TSFlowVivadoWriter)
    register_backend(BACKENDS["vitis"], TSFlowVitisBackend)
    register_backend(BACKENDS["vivado"], TSFlowVivadoBackend)
    for name, cls in IR_LAYERS.items():
        register_layer(name, cls)
    for name in BACKENDS.values():
        backend = get_backend(name)
        for template in template_classes():
            backend.register_template(template)
        for header in ("tsflow_layers.h", "tsflow_trace.h"):
            backend.register_source(TEMPLATES / header)


def ensure_registered() -> None:
    """Before a conversion: the Keras handlers (hls4ml's converters are not importable while it loads
    plugins), and the backends too when the entry point was not loaded (e.g. from a source tree)."""
    from hls4ml.backends import get_available_backends
    from hls4ml.backends.backend import register_backend
    from hls4ml.converters import get_supported_keras_layers, register_keras_v2_layer_handler
    from hls4ml.writer.writers import register_writer

    from .layers import HANDLERS

    if BACKENDS["vitis"].lower() not in get_available_backends():
        register(register_backend, register_writer)
    known = set(get_supported_keras_layers())
    for keras_class, handler in HANDLERS.items():
        if keras_class not in known:
            register_keras_v2_layer_handler(keras_class, handler)
