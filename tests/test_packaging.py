"""Packaging (issue 5): the wheel carries resources/ and the installed studio finds it; the PyInstaller spec,
the desktop entry and the README agree with the files they name."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.name for p in (ROOT / "resources").iterdir() if p.suffix in (".qss", ".svg", ".png"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                           "-w", str(out), str(ROOT)], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 and "No module named pip" in proc.stderr:
        pytest.skip("pip is not available to build a wheel")
    assert proc.returncode == 0, proc.stderr[-3000:]
    (found,) = out.glob("gan_studio-*.whl")
    return found


def test_the_wheel_carries_every_resource(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    packed = sorted(n.split("/")[-1] for n in names if n.startswith("studio/resources/"))
    assert packed == SHIPPED and "dark.qss" in packed and "icon.png" in packed
    assert "studio/gui/theme.py" in names and not any(n.startswith("resources/") for n in names)


def test_the_installed_studio_finds_its_style_sheets_and_icons(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import studio, studio.gui.theme as t; "
            "print(studio.__file__); print(t.resource_path('dark.qss')); print(t.resource_path('check.svg'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(site), "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    module, qss, check = proc.stdout.split()
    assert Path(module).is_relative_to(site)  # the wheel's copy, not the checkout's
    assert Path(qss) == site / "studio" / "resources" / "dark.qss" and Path(check).is_file()


def test_every_resource_the_style_sheets_name_is_shipped():
    for sheet in ("dark.qss", "light.qss"):
        for name in re.findall(r"@RESOURCES@/([\w.-]+)", (ROOT / "resources" / sheet).read_text(encoding="utf-8")):
            assert name in SHIPPED, f"{sheet} names resources/{name}, which is not shipped"


def test_the_pyinstaller_spec_and_desktop_entry_name_files_that_exist():
    spec = (ROOT / "packaging" / "gan-studio.spec").read_text(encoding="utf-8")
    for path in re.findall(r'ROOT / "([\w.-]+)" / "([\w.-]+)"', spec):
        assert (ROOT / path[0] / path[1]).exists(), f"the spec names {'/'.join(path)}, which is missing"
    assert '(str(ROOT / "resources"), "resources")' in spec  # where theme.py looks inside the bundle
    assert 'name="gan-studio"' in spec
    desktop = (ROOT / "packaging" / "gan-studio.desktop").read_text(encoding="utf-8")
    assert re.search(r"^Icon=gan-studio$", desktop, re.M) and re.search(r"^Exec=gan-studio$", desktop, re.M)
    installer = (ROOT / "packaging" / "install-desktop-entry.sh").read_text(encoding="utf-8")
    for name in re.findall(r"resources/([\w.-]+)", installer):
        assert (ROOT / "resources" / name).is_file()


def test_the_readme_says_how_to_build_the_desktop_app():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Desktop app", 1)[1].split("\n## ", 1)[0]
    assert "pyinstaller packaging/gan-studio.spec" in section and "dist/gan-studio/gan-studio" in section
