"""The Python API does what the commands do: docs/python-api.md runs as written."""
import doctest
import os

from .conftest import REPO


def test_the_python_api_page_runs_as_written(tmp_path, monkeypatch):
    """Every example of docs/python-api.md, in an empty folder: estimate, build (bit-exact over every
    test window), csim again, and the errors a user gets for earlier work and a bad value."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(os.environ, "TF_CPP_MIN_LOG_LEVEL", "3")
    failed, attempted = doctest.testfile(str(REPO / "docs" / "python-api.md"), module_relative=False,
                                         optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert attempted >= 12 and failed == 0
    assert (tmp_path / "runs" / "notebook" / "csim.json").is_file()


def test_a_build_that_is_not_bit_exact_stays_partial(tmp_path, monkeypatch):
    """A real divergence (the C++ truncates norm1 where the model rounds it): api.build raises NotBitExact
    with the C simulation's report and leaves OUT.partial marked FAILED, not a folder that looks done."""
    import re

    import pytest

    import flow.build
    from flow import api

    from .conftest import small_raw

    write_project = flow.build.write_project

    def norm1_truncates(cfg, model, prec, ref, folder, plan):
        project = write_project(cfg, model, prec, ref, folder, plan)
        defines = folder / "firmware" / "defines.h"
        text, n = re.subn(r"(typedef ap_fixed<[^>]*)AP_RND_CONV([^>]*> enc0_norm1_t;)", r"\1AP_TRN\2",
                          defines.read_text())
        assert n == 1
        defines.write_text(text)
        return project

    monkeypatch.setattr(flow.build, "write_project", norm1_truncates)
    with pytest.raises(api.NotBitExact, match="not bit-exact") as caught:
        api.build(small_raw(), tmp_path / "b")
    csim = caught.value.result.csim
    assert not csim.bit_exact and csim.first_divergence["layer"] == "enc0.norm1"
    assert not (tmp_path / "b").exists() and (tmp_path / "b.partial" / "FAILED").is_file()


def test_a_flag_that_is_not_a_bool_is_refused_naming_it(tmp_path):
    """b80: force="no" is true to Python, and replaced earlier work; each flag of the API takes True or False
    (checked before anything is read or written)."""
    import pytest

    from flow import api

    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "metrics.json").write_text("{}")
    with pytest.raises(api.ConfigError, match=r"^force='no': force takes True or False, not a str$"):
        api.train("cfg.yaml", earlier, force="no")
    with pytest.raises(api.ConfigError, match=r"^allow_overflow=1: allow_overflow takes True or False, not a int$"):
        api.build("cfg.yaml", tmp_path / "b", allow_overflow=1)
    with pytest.raises(api.ConfigError, match=r"^block_design='yes': block_design takes True or False"):
        api.export(tmp_path, block_design="yes")
    assert (earlier / "metrics.json").read_text() == "{}"


def test_allow_over_headroom_without_block_design_is_refused_as_the_command_refuses_it(tmp_path):
    """b82: the command refuses --allow-over-headroom without --block-design; the API ignored it."""
    import pytest

    from flow import api

    with pytest.raises(api.ConfigError, match=r"^allow_over_headroom=True only applies with block_design=True .*; "
                                              r"pass block_design=True, or leave allow_over_headroom out$"):
        api.export(tmp_path, allow_over_headroom=True)
    assert list(tmp_path.iterdir()) == []


def test_jobs_that_is_not_a_whole_number_is_refused_naming_it(tmp_path):
    """b85: jobs="2" ended in a TypeError from deep inside the testbench's sharding."""
    import pytest

    from flow import api

    for jobs, kind in (("2", "str"), (1.5, "float"), (True, "bool")):
        with pytest.raises(api.ConfigError) as caught:
            api.csim(tmp_path, jobs=jobs)
        assert str(caught.value) == (f"jobs={jobs!r}: the number of testbench processes is an int (or None: one per "
                                     f"core), not a {kind}")
    with pytest.raises(api.ConfigError) as caught:
        api.csim(tmp_path, jobs=0)
    assert str(caught.value) == "jobs=0: the number of testbench processes is at least 1 (or None: one per core)"
    with pytest.raises(api.ConfigError, match="^jobs='2'"):
        api.build("cfg.yaml", tmp_path / "b", jobs="2")


def test_jobs_of_any_integer_type_is_taken_as_an_int(tmp_path, monkeypatch):
    """tour 8 b62: jobs=np.int64(2) was refused as 'a whole number, at least 1', which it is; numpy's integers
    are taken inside config dicts, and so here, passed on as a plain int."""
    import numpy as np

    import flow.build
    import flow.runs
    from flow import api

    seen = []
    monkeypatch.setattr(flow.runs, "check_build_folder", lambda folder: None)
    monkeypatch.setattr(flow.build, "rerun_csim", lambda folder, jobs, **kwargs: seen.append(jobs))
    for jobs in (np.int64(2), np.uint8(3), 4):
        api.csim(tmp_path, jobs=jobs)
    assert seen == [2, 3, 4] and all(type(j) is int for j in seen)


def test_a_path_starting_with_a_tilde_is_the_home_folder_as_the_commands_read_it(tmp_path, monkeypatch):
    """As ``data.path`` and every path option of the commands: ``~/x`` is ``$HOME/x``, not a folder named '~'."""
    import pytest
    import yaml

    from flow import api

    from .conftest import small_raw

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "c.yaml").write_text(yaml.safe_dump(small_raw()))
    monkeypatch.chdir(tmp_path)
    assert api.load_config("~/c.yaml").name == "small"
    assert api.estimate("~/c.yaml").latency_cycles > 0
    with pytest.raises(api.ConfigError, match=str(tmp_path / "home" / "nope")):
        api.csim("~/nope")
    assert not (tmp_path / "~").exists()


def test_a_path_argument_of_another_type_or_empty_is_refused_naming_it(tmp_path, monkeypatch):
    """b54, b86, b57, b85: None or 5 as a folder raised pathlib's TypeError; an empty string was read as '.' and
    named as a command's flag ('--trained .'). Each is refused naming the argument, before any folder is made."""
    import pytest

    from flow import api

    from .conftest import small_raw

    monkeypatch.chdir(tmp_path)
    refused = [
        (lambda: api.csim(None), "folder=None: give the build folder as a str or Path, not a NoneType"),
        (lambda: api.export(3), "folder=3: give the build folder as a str or Path, not a int"),
        (lambda: api.build(small_raw(), 5), "out=5: give the build folder to write as a str or Path, not a int"),
        (lambda: api.train(small_raw(), None), "out=None: give the folder to write as a str or Path, not a NoneType"),
        (lambda: api.build(small_raw(), "b", trained=""),
         "trained='': an empty path (an unset variable?); give the train or build folder, or None"),
        (lambda: api.estimate(small_raw(), calibration=" "),
         "calibration=' ': an empty path (an unset variable?); give the file 'tsflow calibrate' wrote, or None"),
        (lambda: api.estimate(""), "config='': an empty path (an unset variable?); give the YAML file"),
    ]
    for call, message in refused:
        with pytest.raises(api.ConfigError) as caught:
            call()
        assert str(caught.value) == message
    assert list(tmp_path.iterdir()) == []


def test_a_callback_that_is_not_a_function_is_refused_before_any_folder(tmp_path):
    """b56, b59: report="progress" failed with "'str' object is not callable" once the data had loaded, and
    left OUT.partial behind."""
    import pytest

    from flow import api

    from .conftest import small_raw

    with pytest.raises(api.ConfigError, match=r"^report='progress': report takes a function \(phase, epoch, epochs, "
                                              r"logs\) or None, not a str$"):
        api.train(small_raw(), tmp_path / "t", report="progress")
    with pytest.raises(api.ConfigError, match=r"^checked='yes': checked takes a function \(estimate\) or None"):
        api.build(small_raw(), tmp_path / "b", checked="yes")
    with pytest.raises(api.ConfigError, match=r"^note=1: note takes a function \(text\) or None, not a int$"):
        api.build(small_raw(), tmp_path / "b", note=1)
    with pytest.raises(api.ConfigError, match=r"^verdict='x': verdict takes a function \(report\)"):
        api.csim(tmp_path, verdict="x")
    assert list(tmp_path.iterdir()) == []


def test_config_dir_applies_to_a_dict_only_and_must_exist(tmp_path, monkeypatch):
    """b60: load_config(PATH, config_dir=...) ignored config_dir without a word (a YAML's relative data.path
    is read from the YAML's folder); a config_dir that does not exist was not checked."""
    import pytest
    import yaml

    from flow import api

    from .conftest import small_raw

    (tmp_path / "c.yaml").write_text(yaml.safe_dump(small_raw()))
    with pytest.raises(api.ConfigError, match=r"^config_dir='elsewhere' applies to a dict only .*: leave config_dir "
                                              r"out$"):
        api.load_config(tmp_path / "c.yaml", config_dir="elsewhere")
    with pytest.raises(api.ConfigError, match=r"^config_dir='/nonexistent/dir': no such folder"):
        api.load_config(small_raw(), config_dir="/nonexistent/dir")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "s.csv").write_text("temp\n" + "\n".join(str(i % 7) for i in range(200)) + "\n")
    raw = {**small_raw(), "data": {"source": "csv", "path": "s.csv", "features": ["temp"], "target": "temp",
                                   "window": 8}}
    monkeypatch.chdir(tmp_path)
    assert api.load_config(raw, config_dir="d").data.path == str(tmp_path / "d" / "s.csv")


def test_a_callback_of_other_arguments_yaml_text_and_a_set_field_are_refused_with_the_way_out(tmp_path):
    """tour 7, b39: a one-argument report failed inside Keras's fit after the folder was made; b38: YAML text
    given as the path died in os.stat (File name too long); b37: a field set on a loaded config raised
    pydantic's 'Instance is frozen'."""
    import pytest

    from flow import api

    from .conftest import small_raw

    def progress(logs):
        pass

    with pytest.raises(api.ConfigError, match=r"^report='progress': report is called with 4 arguments \(phase, epoch, "
                                              r"epochs, logs\), which a function of \(logs\) does not take$"):
        api.train(small_raw(), tmp_path / "t", report=progress)
    with pytest.raises(api.ConfigError, match=r"note is called with 1 argument \(text\), which a function of \(\)"):
        api.build(small_raw(), tmp_path / "b", note=lambda: None)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(api.ConfigError, match=r"^source: a string of 2 lines, YAML text rather than a path"):
        api.load_config("name: x\nmodel: {d_model: 8}\n")
    with pytest.raises(api.ConfigError, match=r"^configuration 'xxx.*cannot look it up \(File name too long\)"):
        api.load_config("x" * 5000)
    cfg = api.load_config(small_raw())
    with pytest.raises(api.ConfigError, match=r"^ModelConfig.heads = 3: a loaded configuration is read-only"):
        cfg.model.heads = 3
    assert cfg.model.heads == small_raw()["model"]["heads"]


def test_a_config_made_invalid_through_pydantic_and_a_path_with_a_space_at_an_end_are_refused(tmp_path, monkeypatch):
    """tour 7, b47: load_config(FlowConfig) returned one model_copy(update=...) had made invalid (heads 3 with
    d_model 8), and estimate used it; b42: load_config('cfg.yaml ') said 'file not found: cfg.yaml ', the space
    unseen."""
    import pytest
    import yaml

    from flow import api

    from .conftest import small_raw

    monkeypatch.chdir(tmp_path)
    cfg = api.load_config(small_raw())
    bad = cfg.model_copy(update={"model": cfg.model.model_copy(update={"heads": 3})})
    for call in (lambda: api.load_config(bad), lambda: api.estimate(bad)):
        with pytest.raises(api.ConfigError, match=r"^invalid configuration:\n  model = \{...\}: .*d_model \(8\) must "
                                                  r"be divisible by heads \(3\)$"):
            call()
    good = cfg.model_copy(update={"model": cfg.model.model_copy(update={"heads": 2})})
    assert api.load_config(good).model.heads == 2 and api.load_config(cfg) == cfg
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(small_raw()))
    with pytest.raises(api.ConfigError, match=r"^source='cfg.yaml ': the name 'cfg.yaml ' ends with whitespace \(a "
                                              r"quoting slip\?\); remove it$"):
        api.load_config("cfg.yaml ")
    with pytest.raises(api.ConfigError, match=r"^out=' b': the name ' b' starts with whitespace"):
        api.build(cfg, " b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg.yaml"]


def test_an_implausible_calibration_factor_is_told_when_applied(tmp_path):
    """tour 7, b31: a latency factor of 99.7 was applied by estimate without a word (only one below 0.1 was
    refused): told to note, or as a CalibrationWarning without one."""
    import json
    import re

    import pytest

    from flow import api
    from flow.calibration import CalibrationWarning

    from .conftest import small_raw

    cfg = api.load_config(small_raw())
    path = tmp_path / "cal.json"
    path.write_text(json.dumps({"part": cfg.target.part, "factors": {"latency": 99.7},
                                "sources": {"latency": ["theirs.xml"]}}))
    told = []
    est = api.estimate(cfg, path, note=told.append)
    expected = (f"--calibration {path}: its latency factor is 99.7 (made from theirs.xml), outside 0.1..10: the reports "
                f"are likely of another design, yet this estimate's latency is scaled by it")
    assert len(told) == 1 and told[0].startswith(f"warning: {expected}"), told
    assert est.latency_cycles == pytest.approx(99.7 * api.estimate(cfg).latency_cycles, rel=0.01)
    with pytest.warns(CalibrationWarning, match="^" + re.escape(expected)):
        api.estimate(cfg, path)
