"""Kernel side of the report notebook: show each part of the report as a notebook output.

Each output carries two representations of the same part: `text/html` (escaped HTML that
nbconvert exports) and `application/vnd.perfeval.report+json` (the blocks and chart PNGs as
data, from which the Word export is built). So every export comes from the executed notebook.
"""

from __future__ import annotations

import base64
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from perfeval.report import html
from perfeval.report.compose import compose
from perfeval.report.document import Figure, Part, ReportDoc

MIME = "application/vnd.perfeval.report+json"


class ReportView:
    """One evaluation and its composed report, shown part by part."""

    def __init__(self, evaluation, doc: ReportDoc):
        self.evaluation = evaluation
        self.doc = doc
        self._png: dict[str, bytes] = {}

    @classmethod
    def load(cls, workbook: str | Path | None = None, scheme: str | None = None, project_id: str | None = None,
             options: dict | None = None, generated_at: str | datetime | None = None, *,
             project_file: str | Path | None = None, project_sha256: str | None = None) -> ReportView:
        """The report of one project: from `project_file` (the project snapshot `perfeval report` and
        `perfeval batch` write beside the executed notebook, checked against `project_sha256`) when given,
        else read and validated from `workbook`."""
        from perfeval import evaluate, load_project

        if project_file:
            from perfeval.report.snapshot import read_snapshot

            project = read_snapshot(project_file, project_sha256)
        else:
            project = load_project(workbook, scheme, project_id)
        evaluation = evaluate(project, scheme, options or None)
        return cls(evaluation, compose(evaluation, generated_at))

    def chart_png(self, chart: str) -> bytes:
        if chart not in self._png:
            from perfeval.report.charts import CHARTS, figure_png

            self._png[chart] = figure_png(CHARTS[chart](self.evaluation, title=False))
        return self._png[chart]

    def images(self, part: Part) -> dict[str, bytes]:
        return {b.chart: self.chart_png(b.chart) for b in part.blocks if isinstance(b, Figure)}

    def bundle(self, key: str) -> tuple[dict, dict]:
        """(data, metadata) of the output for one part: "封面", "一" … "八", "附表", "附录" or
        "生成信息"."""
        if key == "生成信息":
            prov = self.doc.provenance
            payload = {"kind": "provenance", "provenance": asdict(prov)}
            text, markup = prov.text(), html.render_provenance(prov)
        elif key == "封面":
            part = self.doc.part(key)
            payload = {"kind": "cover", "title": self.doc.title, "facts": self.doc.facts,
                       "part": asdict(part)}
            text, markup = self.doc.title, html.render_cover(self.doc)
        else:
            part = self.doc.part(key)
            images = self.images(part)
            payload = {"kind": "part", "part": asdict(part),
                       "images": {k: base64.b64encode(v).decode("ascii") for k, v in images.items()}}
            text, markup = key, html.render_part(part, images)
        data = {"text/plain": text, "text/html": markup, MIME: payload}
        return data, {"perfeval": {"part": key}}

    def show(self, key: str) -> None:
        from IPython.display import display

        data, metadata = self.bundle(key)
        display(data, raw=True, metadata=metadata)
