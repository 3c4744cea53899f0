"""Importing this module loads the report exporters (WeasyPrint, python-docx, nbconvert's report template): a
batch's forkserver imports it once (`perfeval.batch.runner.PRELOAD`), so every job process it forks starts with
them loaded instead of loading them itself (about 0.8 CPU-s per job process: WeasyPrint's import finds its
native libraries by running the compiler and ldconfig). WeasyPrint's first layout (fontconfig and Pango set-up)
is left to each job process (`perfeval.report.build.warm_exporters`): native state initialised before a fork is
not shared with the forked children.

A failure here is never an error: the forkserver must start whatever this module meets, and a job process then
loads what is missing itself (as it did before).
"""

from __future__ import annotations

import contextlib

with contextlib.suppress(Exception):
    import docx  # noqa: F401
    import weasyprint  # noqa: F401

    from perfeval.report.html import warm_up as _warm_html

    _warm_html()
