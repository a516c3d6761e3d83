"""One self-contained HTML page: text, tables and figures (inline PNG data), readable offline, nothing fetched.

Only lays out what it is given: the report's sections compute their numbers
and pictures (interpret/report/), catnet/commands/report.py words the answers.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from interpret.pictures import Picture

STYLE = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f; max-width: 1180px;
       margin: 2em auto; padding: 0 1.2em; }
h1 { font-size: 1.9em; margin-bottom: 0.2em; } h2 { margin-top: 2.2em; border-bottom: 1px solid #ddd; }
h3 { margin-top: 1.6em; }
.answer { background: #f4f8fb; border-left: 4px solid #3a7bd5; padding: 0.6em 1em; margin: 0.8em 0; }
.question { font-weight: 600; font-size: 1.15em; margin-top: 1em; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto; image-rendering: pixelated; display: block; }
figure img.chart { image-rendering: auto; }
figcaption { font-size: 0.95em; color: #444; margin-top: 0.4em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.95em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; } th { background: #f2f2f2; }
td.text, th.text { text-align: left; }
.scale { display: flex; align-items: center; gap: 0.6em; font-size: 0.9em; }
.scale img { width: 256px; height: 12px; }
.note { color: #555; font-size: 0.92em; }
code { background: #f3f3f3; padding: 0 0.25em; }
"""


@dataclass(frozen=True)
class Paragraph:
    text: str

    def html(self) -> str:
        return f"<p>{html.escape(self.text)}</p>"


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str

    def html(self) -> str:
        return (f'<div class="answer"><div class="question">{html.escape(self.question)}</div>'
                f"<p>{html.escape(self.answer)}</p></div>")


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]  # cells: text or numbers already formatted, or a Picture
    text_columns: int = 1  # the first this-many columns are left-aligned words

    def html(self) -> str:
        def cell(tag: str, index: int, content) -> str:
            css = ' class="text"' if index < self.text_columns or isinstance(content, Picture) else ""
            if isinstance(content, Picture):
                return f"<{tag}{css}>{image_html(content)}</{tag}>"
            return f"<{tag}{css}>{html.escape(str(content))}</{tag}>"

        head = "".join(cell("th", i, h) for i, h in enumerate(self.headers))
        rows = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


@dataclass(frozen=True)
class Figure:
    picture: Picture
    chart: bool = False  # a plot (smoothed when scaled) rather than pixels to show as they are

    def html(self) -> str:
        return f"<figure>{image_html(self.picture, self.chart)}<figcaption>{html.escape(self.picture.caption)}</figcaption></figure>"


@dataclass(frozen=True)
class Scale:
    """A colour scale strip with its two ends labelled."""

    pixels: object  # (h, w, 3) uint8
    low: str
    high: str
    units: str

    def html(self) -> str:
        strip = Picture(self.pixels, self.units)
        return (f'<div class="scale"><span>{html.escape(self.low)}</span><img src="{png_data(strip.png())}" '
                f'alt="colour scale, {html.escape(self.units)}"><span>{html.escape(self.high)}</span>'
                f"<span>{html.escape(self.units)}</span></div>")


Part = Paragraph | Answer | Table | Figure | Scale


@dataclass
class Section:
    """A heading, then paragraphs, tables and figures in the order added."""

    title: str
    level: int = 2
    parts: list[Part] = field(default_factory=list)

    def text(self, *paragraphs: str) -> Section:
        self.parts += [Paragraph(p) for p in paragraphs]
        return self

    def answer(self, question: str, answer: str) -> Section:
        self.parts.append(Answer(question, answer))
        return self

    def table(self, table: Table) -> Section:
        self.parts.append(table)
        return self

    def picture(self, picture: Picture, chart: bool = False) -> Section:
        self.parts.append(Figure(picture, chart))
        return self

    def scale(self, scale: Scale) -> Section:
        self.parts.append(scale)
        return self


def png_data(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def image_html(picture: Picture, chart: bool = False) -> str:
    height, width = picture.pixels.shape[:2]
    return (f'<img{" class=chart" if chart else ""} src="{png_data(picture.png())}" width="{width}" height="{height}" '
            f'alt="{html.escape(picture.caption)}">')


def render_page(title: str, sections: Sequence[Section], footer: str) -> str:
    body = [f"<h1>{html.escape(title)}</h1>"]
    for section in sections:
        level = min(max(section.level, 2), 4)
        body.append(f"<h{level}>{html.escape(section.title)}</h{level}>")
        body += [part.html() for part in section.parts]
    body.append(f'<p class="note">{html.escape(footer)}</p>')
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")
