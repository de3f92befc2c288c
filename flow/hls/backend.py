"""hls4ml backends 'TSFlowVitis' and 'TSFlowVivado' with their writers, loaded as an hls4ml plugin.

They are hls4ml's Vitis / Vivado backends plus the tsflow layers, with a writer that changes two
things: each intermediate buffer gets the storage asked for in the YAML (BIND_STORAGE for Vitis HLS,
RESOURCE for Vivado HLS, a complete partition for registers, nothing for auto), and the top function
has no function-level PIPELINE/DATAFLOW, so the layers run one after another with their own loops.
pyproject.toml publishes it (through ``flow.hls.plugin``) under the ``hls4ml.backends`` entry-point group.
"""
from __future__ import annotations

import tempfile
from importlib.resources import files
from pathlib import Path

import numpy as np

from hls4ml.backends import VitisBackend, VivadoBackend
from hls4ml.backends.fpga.fpga_backend import FPGABackend
from hls4ml.model.flow import get_flow, register_flow
from hls4ml.model.optimizer import ModelOptimizerPass, register_pass
from hls4ml.writer.vitis_writer import VitisWriter
from hls4ml.writer.vivado_writer import VivadoWriter

from ..errors import ConfigError
from .pragmas import memory_pragmas


TEMPLATES = Path(str(files("flow.hls_templates")))
BACKENDS = {"vitis": "TSFlowVitis", "vivado": "TSFlowVivado"}

LANES_HEADER, ENGINE_HEADER = "tsflow_lanes.h", "tsflow_engine.h"


# hls4ml's scripts and testbench: they would run hls4ml's testbench on zero inputs (no tsflow vectors) and
# its own flow; tsflow's are tsflow_tb.cpp, flow.csim and the export's Tcl (compile() and build() included)
# hls4ml's records of the conversion, written anew by every write(): they are not what is compiled
HLS4ML_RECORDS = ("hls4ml_config.yml", "keras_model.keras")
HLS4ML_ONLY = ("build_prj.tcl", "build_opt.tcl", "project.tcl", "vivado_synth.tcl", "build_lib.sh")


class _SequentialWriterMixin:
    dialect = "vitis"

    def write_hls(self, model, *args, **kwargs):
        """hls4ml's project without the files that do not work with it: only what runs stays; then the
        written C++ is checked against the plan (``flow.hls.check``). In a tsflow run's folder (a build's
        ``hls/``: ``result.hls_model.compile()``) only a project that changes none of its files is taken,
        and then nothing is written: that folder is what the run wrote and checked."""
        from ..runs import BUILD, SEARCH, TRAIN

        folder = Path(model.config.get_output_dir())
        run = _run_folder(folder)
        if run is None or run[1] not in (BUILD, TRAIN, SEARCH):  # a run's DIR.partial: the build writing its hls/
            self._write_checked(model, *args, **kwargs)
            return
        with tempfile.TemporaryDirectory(prefix="tsflow-hls-") as tmp:
            model.config.config["OutputDir"] = tmp
            try:
                self._write_checked(model, *args, **kwargs)
            finally:
                model.config.config["OutputDir"] = str(folder)
            written = [rel for rel in _files_below(Path(tmp)) if rel not in HLS4ML_RECORDS]
            changed = [rel for rel in written if (folder / rel).is_file() and not _same_file(Path(tmp, rel), folder / rel)]
            added = [rel for rel in written if not (folder / rel).is_file()]
        if changed or added:
            from ..runs import OutputExists, as_given

            root, kind = run
            shown_root = as_given(root, folder)
            where = (f"the hls/ project of {shown_root}, {kind}" if kind == BUILD and folder.absolute() == root / "hls"
                     else f"{shown_root}, {kind}" if folder.absolute() == root else f"inside {shown_root}, {kind}")
            what = "; ".join(f"{_listed(names)} would {verb}" for names, verb in ((changed, "change"), (added, "be added"))
                             if names)
            raise OutputExists(f"output_dir {folder} is {where}; writing this project there would replace what that "
                               f"run wrote and checked ({what}): choose another output_dir")

    def _write_checked(self, model, *args, **kwargs):
        from .check import check_written

        super().write_hls(model, *args, **kwargs)
        folder = Path(model.config.get_output_dir())
        for name in (*HLS4ML_ONLY, f"{model.config.get_project_name()}_test.cpp"):
            (folder / name).unlink(missing_ok=True)
        plan = next(layer.get_attr("tsflow_plan") for layer in model.get_layers() if layer.get_attr("tsflow_plan"))
        check_written(folder / "firmware", plan, model.config.get_project_name())

    def _make_array_pragma(self, variable):
        if not hasattr(variable, "tsflow_memory"):
            return super()._make_array_pragma(variable)
        return "\n    ".join(memory_pragmas(self.dialect, variable.name, variable.tsflow_memory))

    def write_project_cpp(self, model):
        for port in [*model.get_input_variables(), *model.get_output_variables()]:
            port.__dict__.pop("tsflow_memory", None)  # ports keep hls4ml's interface pragmas
        super().write_project_cpp(model)
        # not at import: hls4ml loads this module while it imports
        from .engine import engine_header
        from .layers import lanes_file
        from .schedule import program_of

        firmware = Path(model.config.get_output_dir()) / "firmware"
        plan = next(layer.get_attr("tsflow_plan") for layer in model.get_layers() if layer.get_attr("tsflow_plan"))
        (firmware / LANES_HEADER).write_text(lanes_file(plan["engine"]))
        (firmware / ENGINE_HEADER).write_text(engine_header(program_of(model, self.dialect)))
        path = firmware / f"{model.config.get_project_name()}.cpp"
        lines = path.read_text().splitlines(keepends=True)
        kept = [ln for ln in lines if ln.strip() not in ("#pragma HLS PIPELINE", "#pragma HLS DATAFLOW")
                and not ln.strip().startswith("#pragma HLS PIPELINE II=")]
        # the lanes' struct before the configs that name it, the engine and stages after them
        kept.insert(0, f'#include "{LANES_HEADER}"\n')
        params = next(i for i, ln in enumerate(kept) if ln.strip() == '#include "parameters.h"')
        kept.insert(params + 1, f'#include "{ENGINE_HEADER}"\n')
        if self.dialect == "vivado":  # tsflow::multiply picks Vivado HLS's RESOURCE pragma
            kept.insert(0, "#define TSFLOW_VIVADO_HLS\n")
        self._write_interface(model, plan["interface"], path, kept)

    @staticmethod
    def _write_interface(model, interface: str, source: Path, lines: list[str]) -> None:
        """hls.interface: the core's port pragmas, and the wrapper the tools synthesise (flow.hls.interface)."""
        from .interface import core_port_pragmas, wrapper

        inp, out = model.get_input_variables()[0], model.get_output_variables()[0]
        core = model.config.get_project_name()
        lines = core_port_pragmas(interface, lines, [inp.name, out.name])
        n_in, n_out = inp.size_cpp(), out.size_cpp()
        source.write_text("".join(lines) + wrapper(interface, core, n_in, n_out, inp.type.name, out.type.name))

    def write_project_header(self, model):
        """hls4ml's header of the top function, with the interface wrapper's declaration."""
        from .interface import prototype

        super().write_project_header(model)
        plan = next(layer.get_attr("tsflow_plan") for layer in model.get_layers() if layer.get_attr("tsflow_plan"))
        inp, out = model.get_input_variables()[0], model.get_output_variables()[0]
        header = Path(model.config.get_output_dir()) / "firmware" / f"{model.config.get_project_name()}.h"
        text = header.read_text()
        end = text.rindex("#endif")
        header.write_text(text[:end] + prototype(plan["interface"], inp.size_cpp(), out.size_cpp()) + "\n" + text[end:])


def _run_folder(folder: Path) -> tuple[Path, str] | None:
    """The tsflow build, train or search folder that ``folder`` is or is inside (or a run's ``DIR.partial``)."""
    from ..runs import BUILD, SEARCH, TRAIN, enclosing_run, folder_kind

    kind = folder_kind(folder)
    return (folder.absolute(), kind) if kind in (BUILD, TRAIN, SEARCH) else enclosing_run(folder)


def _files_below(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _listed(names: list[str], shown: int = 5) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def _same_file(a: Path, b: Path) -> bool:
    return b.is_file() and a.read_bytes() == b.read_bytes()


class TSFlowVitisWriter(_SequentialWriterMixin, VitisWriter):
    dialect = "vitis"


class TSFlowVivadoWriter(_SequentialWriterMixin, VivadoWriter):
    dialect = "vivado"


def _register_flows(backend, base: str):
    """The base backend's ip flow with the plan pass (``flow.hls.settings``) right after the layers are
    made, this backend's templates after hls4ml's, and this backend's writer."""
    from .settings import plan_model

    plan = register_pass("plan", ModelOptimizerPass(f"{backend.name.lower()}:plan", plan_model), backend=backend.name)
    plan_flow = register_flow("plan", [plan], requires=["vivado:init_layers"], backend=backend.name)
    templates = register_flow("apply_templates", backend._get_layer_templates, requires=["vivado:init_layers"],
                              backend=backend.name)
    backend._writer_flow = register_flow("write", ["make_stamp", f"{backend.name.lower()}:write_hls"],
                                         requires=[f"{backend.name.lower()}:ip"], backend=backend.name)
    requires = get_flow(f"{base}:ip").requires.copy()
    requires.insert(requires.index("vivado:init_layers") + 1, plan_flow)  # before types become backend types
    requires.insert(requires.index("vivado:apply_templates") + 1, templates)
    backend._default_flow = register_flow("ip", None, requires=requires, backend=backend.name)


class _TSFlowBackendMixin:
    """Part and clock default to the model's tsflow target (hls4ml's defaults are other parts);
    ``hls_model.compile()`` compiles as the C simulation does."""

    def compile(self, model):
        from ..csim import compile_library  # not at import: hls4ml loads this module while it imports

        return str(compile_library(Path(model.config.get_output_dir()), model.config.get_project_name(),
                                   model.config.get_config_value("Stamp")))

    def build(self, model, **steps):
        """``hls_model.build()``: the tsflow vendor scripts (C simulation over the build's test vectors,
        synthesis, IP export; ``export.*`` of the YAML choose co-simulation and implementation) on the build
        folder whose ``hls/`` project this is. hls4ml's step keywords are accepted; the scripts run every
        step. Returns what ``tsflow export --run`` writes to ``synthesis.json``."""
        from ..export import ExportError, ToolsMissing, load_build_config, missing_tools_message, run_scripts

        project = Path(model.config.get_output_dir()).resolve()
        build_dir = project.parent
        if project.name != "hls" or not (build_dir / "model" / "config.yaml").is_file():
            raise ExportError(f"hls_model.build() runs the tsflow vendor scripts on a tsflow build folder, whose "
                              f"test vectors the C simulation checks; {project} is not the hls/ project of one. "
                              f"Make one with flow.api.build(config, DIR) (or 'tsflow build CONFIG --out DIR') and "
                              f"call build() on its result.hls_model, or run 'tsflow export DIR --run'")
        cfg = load_build_config(build_dir)
        message = missing_tools_message(cfg, build_dir)
        if message:
            raise ToolsMissing(f"hls_model.build(): {message}")
        return run_scripts(build_dir, cfg)

    def predict(self, model, x, *args, **kwargs):
        """``hls_model.predict(x)``: ``x`` holds windows as the Keras model takes them, (N, steps, inputs) or
        one window (steps, inputs), or flat as hls4ml's own examples give them, (N, steps * inputs) or one
        (steps * inputs,); another shape is refused saying what the model takes (hls4ml would take any array
        whose size is a multiple of a window's, and say 'Input size mismatch' otherwise)."""
        steps, inputs = model.get_input_variables()[0].shape
        shape = tuple(np.shape(x))
        windowed = len(shape) in (2, 3) and shape[-2:] == (steps, inputs)
        flat = len(shape) in (1, 2) and shape[-1] == steps * inputs
        if not (windowed or flat):
            raise ValueError(f"predict(x): x has shape {shape}; this model takes (N, {steps}, {inputs}): windows of "
                             f"data.window = {steps} steps, {inputs} input value{'s' if inputs > 1 else ''} each "
                             f"(or one window, ({steps}, {inputs}); or flat, (N, {steps * inputs}))")
        return model._predict(x)

    def create_initial_config(self, part=None, clock_period=None, **kwargs):
        config = super().create_initial_config(part=part, clock_period=clock_period, **kwargs)
        config["Part"], config["ClockPeriod"] = part, clock_period  # None: filled by the plan pass
        return config


class TSFlowVitisBackend(_TSFlowBackendMixin, VitisBackend):
    def __init__(self):
        FPGABackend.__init__(self, name=BACKENDS["vitis"])
        self._register_layer_attributes()
        _register_flows(self, "vitis")


class TSFlowVivadoBackend(_TSFlowBackendMixin, VivadoBackend):
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


TSFLOW_ONLY = "tsflow_backends_only"


def _tsflow_backends_only(model) -> bool:
    """hls4ml pass of every backend: a model with tsflow layers converts only through the tsflow backends
    (another one has no C++ for them and would compute another model than Keras, without a word), and only
    with io_type='io_parallel' (the tsflow design takes the window as one array; with 'io_stream' hls4ml would
    write stream code that does not compile, said only by g++ at compile())."""
    from .layers import TSLayer

    name = model.config.backend.name
    layers = sorted({node.class_name for node in model.get_layers() if isinstance(node, TSLayer)})
    if layers and name not in BACKENDS.values():
        ours = BACKENDS["vivado" if "vivado" in name.lower() else "vitis"]
        raise ConfigError(f"backend {name!r}: the tsflow layers of this model ({', '.join(layers)}) convert only "
                          f"through the backends {' / '.join(BACKENDS.values())}, bit-exact with the Keras model; "
                          f"hls4ml's {name!r} has no C++ for them and would compute another model: pass "
                          f"backend={ours!r} to convert_from_keras_model (and to config_from_keras_model)")
    io_type = model.config.get_config_value("IOType")
    if name in BACKENDS.values() and io_type != "io_parallel":
        raise ConfigError(f"io_type={io_type!r}: tsflow designs convert with io_type='io_parallel' (hls4ml's "
                          f"default; the window is one array); leave io_type out of convert_from_keras_model. For "
                          f"a streamed window, set hls.interface: axis in the tsflow configuration (AXI4-Stream "
                          f"ports)")
    return False


def ensure_registered() -> None:
    """Before a conversion: the Keras handlers (hls4ml's converters are not importable while it loads
    plugins), and the backends too when the entry point was not loaded (e.g. from a source tree)."""
    from hls4ml.backends import get_available_backends
    from hls4ml.backends.backend import register_backend
    from hls4ml.converters import get_supported_keras_layers, register_keras_v2_layer_handler
    from hls4ml.model.flow import update_flow
    from hls4ml.model.optimizer import get_available_passes
    from hls4ml.writer.writers import register_writer

    from .layers import HANDLERS

    if BACKENDS["vitis"].lower() not in get_available_backends():
        register(register_backend, register_writer)
    if TSFLOW_ONLY not in get_available_passes():
        register_pass(TSFLOW_ONLY, ModelOptimizerPass(TSFLOW_ONLY, _tsflow_backends_only))
        update_flow("convert", add_optimizers=[TSFLOW_ONLY])  # the flow every backend's conversion starts with
    known = set(get_supported_keras_layers())
    for keras_class, handler in HANDLERS.items():
        if keras_class not in known:
            register_keras_v2_layer_handler(keras_class, handler)
