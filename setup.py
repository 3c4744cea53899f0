"""Packaging glue that pyproject.toml cannot express: files kept at the top of the checkout ship in the
wheel under the package, at the same relative path (`notebooks/x.ipynb` → `perfeval/notebooks/x.ipynb`).
`perfeval.shipped.shipped_file` finds them in either place. Everything else is in pyproject.toml."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

#: top-level files (relative to the checkout) that the installed package needs
SHIPPED = ("notebooks/evaluation.ipynb", "notebooks/explore.ipynb", "data/reference/AKT2022-001.xlsx")


class BuildPyWithShipped(build_py):
    """build_py that also copies SHIPPED into the built package (not in editable mode: an editable
    install reads them from the checkout)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for relative in SHIPPED:
            target = Path(self.build_lib) / "perfeval" / relative
            self.mkpath(str(target.parent))
            self.copy_file(relative, str(target))


setup(cmdclass={"build_py": BuildPyWithShipped})
