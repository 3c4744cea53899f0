"""Files perfeval ships outside its Python modules (the notebooks, the reference project).

In a source checkout (or an editable install) they live at the top of the checkout
(`notebooks/evaluation.ipynb`); a wheel carries them inside the package at the same relative path
(`perfeval/notebooks/evaluation.ipynb`, copied by setup.py). `shipped_file` looks in both.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def shipped_file(relative: str) -> Path | None:
    """The installed copy of a shipped file (package data first, then the source checkout), or None."""
    packaged = resources.files("perfeval").joinpath(*relative.split("/"))
    if packaged.is_file():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[1].joinpath(*relative.split("/"))
    return checkout if checkout.is_file() else None
