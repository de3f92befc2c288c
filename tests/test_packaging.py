"""A wheel install carries what the flow reads at run time: the C++ headers and the Tcl templates."""
import shutil
import subprocess
import sys
import zipfile

from .conftest import REPO


def test_the_wheel_ships_the_hls_headers_and_the_tcl_templates(tmp_path):
    source = tmp_path / "src"  # a copy, so the build leaves nothing in the checkout
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", "runs", "build", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path / "dist"), str(source)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("tsflow-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for header in (REPO / "hls_templates").glob("*.h"):
        assert f"flow/hls_templates/{header.name}" in names
    for template in (REPO / "vivado_scripts").glob("*.in"):
        assert f"flow/vivado_scripts/{template.name}" in names
    # every module of the flow and the model, subpackages included
    for module in [*(REPO / "flow").rglob("*.py"), *(REPO / "keras_models").rglob("*.py")]:
        assert str(module.relative_to(REPO)) in names, module
