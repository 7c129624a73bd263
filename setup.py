"""Build hook: the wheel carries the top-level resources/ folder (style sheets, icons) as studio/resources/.

resources/ stays at the top of the repository, where packaging/gan-studio.spec (PyInstaller) and
packaging/install-desktop-entry.sh take it from; studio/gui/theme.py finds it in either place.
Everything else about the package is declared in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCES = Path(__file__).resolve().parent / "resources"
SHIPPED = {".qss", ".svg", ".png", ".ico"}  # not make_icon.py: it draws icon.png at development time


class BuildPyWithResources(build_py):
    """build_py, then resources/* into <build>/studio/resources/ (an editable install reads the checkout's)."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "studio" / "resources"
        target.mkdir(parents=True, exist_ok=True)
        for source in sorted(RESOURCES.iterdir()):
            if source.is_file() and source.suffix.lower() in SHIPPED:
                shutil.copy2(source, target / source.name)


setup(cmdclass={"build_py": BuildPyWithResources})
