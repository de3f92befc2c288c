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
