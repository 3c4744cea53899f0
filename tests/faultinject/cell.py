"""IPython extension of the fault kernel (`faultinject.install_kernel`): every cell after papermill's
injected-parameters cell raises."""

from __future__ import annotations

from faultinject import MESSAGE


def load_ipython_extension(ip) -> None:  # pragma: no cover - runs inside the kernel
    state = {"armed": False}

    def transform(lines: list[str]) -> list[str]:
        if state["armed"]:
            return [f"raise RuntimeError({MESSAGE!r})\n"]
        if lines and lines[0].startswith("# Parameters"):
            state["armed"] = True
        return lines

    ip.input_transformers_post.append(transform)
