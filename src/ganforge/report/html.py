"""Small HTML helpers for a page that must open from disk or an e-mail attachment:
everything inline (CSS, images as ``data:`` URIs, one tiny optional script), every
image with alt text, every table with headers, and a layout that reflows to a phone."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

#: The page's style: readable on a laptop and at phone width (no fixed widths; wide
#: tables scroll inside their own box instead of widening the page).
CSS = """
:root { color-scheme: light; --fg: #1d2125; --muted: #5b6470; --line: #d8dde3; --bg: #ffffff;
        --soft: #f4f6f8; --mark: #fff1a8; --best: #d7f5dd; --bad: #fde2e1; --accent: #1f5fae; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: var(--fg); background: var(--bg); }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 0 16px; }
header { padding-top: 16px; }
h1 { font-size: 1.5rem; margin: 0.4rem 0; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 1.6rem 0 0.6rem; padding-top: 0.6rem; border-top: 1px solid var(--line); }
h3 { font-size: 1.02rem; margin: 1rem 0 0.4rem; overflow-wrap: anywhere; }
p, li, dd { overflow-wrap: anywhere; }
nav ul { list-style: none; padding: 0; margin: 0.4rem 0; display: flex; flex-wrap: wrap; gap: 4px 14px; }
a { color: var(--accent); }
.muted, figcaption, .note { color: var(--muted); font-size: 0.9rem; }
.scroll { overflow-x: auto; max-width: 100%; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; margin: 0.4rem 0 0.8rem; font-size: 0.92rem; }
caption { caption-side: bottom; text-align: left; padding-top: 4px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: var(--soft); position: sticky; top: 0; }
tr.group th { background: var(--soft); color: var(--muted); font-weight: 600; text-align: left; }
table.metrics tbody th[scope=row] { position: sticky; left: 0; background: var(--bg); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.best { background: var(--best); font-weight: 600; }
td.diff, tr.diff th { background: var(--mark); }
tr.bad td, tr.bad th { background: var(--bad); }
code { font-size: 0.88em; background: var(--soft); padding: 0 3px; border-radius: 3px; overflow-wrap: anywhere; }
.cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 340px), 1fr)); gap: 12px 20px; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 360px), 1fr)); gap: 8px 16px; }
figure { margin: 0 0 8px; }
img { max-width: 100%; height: auto; display: block; }
img.pixels { image-rendering: pixelated; width: 100%; max-width: 520px; }
.strip { display: flex; gap: 10px; overflow-x: auto; padding-bottom: 6px; }
.strip figure { flex: 0 0 auto; width: min(78vw, 260px); }
.slider .strip { display: block; overflow: visible; }
.slider .strip figure { width: auto; }
.slider input[type=range] { width: 100%; max-width: 520px; margin: 6px 0; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0.4rem 0; font-size: 0.92rem; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; }
details { margin: 0.4rem 0; }
summary { cursor: pointer; color: var(--accent); }
.pill { display: inline-block; padding: 0 8px; border-radius: 10px; background: var(--soft); font-size: 0.85rem; }
.pill.bad { background: var(--bad); }
.pill.good { background: var(--best); }
footer { margin: 2rem auto; color: var(--muted); font-size: 0.85rem; }
@media (max-width: 600px) { body { font-size: 14px; } th, td { padding: 3px 5px; } }
"""

#: Progressive enhancement only: without it every grid is shown in a scrollable strip.
SLIDER_JS = """
(function () {
  var boxes = document.querySelectorAll('[data-slider]');
  Array.prototype.forEach.call(boxes, function (box) {
    var figs = box.querySelectorAll('figure');
    if (figs.length < 2) { return; }
    var input = document.createElement('input');
    input.type = 'range'; input.min = '0'; input.max = String(figs.length - 1);
    input.value = String(figs.length - 1);
    input.setAttribute('aria-label', 'training step of the sample grid');
    var show = function (i) {
      Array.prototype.forEach.call(figs, function (f, j) { f.hidden = j !== i; });
    };
    input.addEventListener('input', function () { show(Number(input.value)); });
    box.classList.add('slider');
    box.insertBefore(input, box.firstChild);
    show(figs.length - 1);
  });
  document.body.setAttribute('data-script', 'ok');
})();
"""


def esc(x) -> str:
    return html.escape(str(x), quote=True)


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def img(data: bytes, alt: str, cls: str = "", mime: str = "image/png") -> str:
    c = f' class="{esc(cls)}"' if cls else ""
    return f'<img{c} src="{data_uri(data, mime)}" alt="{esc(alt)}">'


def img_file(path: Path, alt: str, cls: str = "") -> str:
    mime = "image/jpeg" if path.suffix.lower() in (".jpg", ".jpeg") else "image/png"
    return img(path.read_bytes(), alt, cls, mime)


def figure(inner: str, caption: str = "") -> str:
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f"<figure>{inner}{cap}</figure>"


def fmt(v, digits: int = 4) -> str:
    """A number for a table: ints with separators, floats to ``digits`` significant
    figures, non-finite values spelled out, None as a dash."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "inf" if v > 0 else "−inf"
        a = abs(v)
        if a == 0:
            return "0"
        if a >= 1000:
            return f"{v:,.0f}"
        if a >= 0.01:
            return f"{v:.{digits}g}"
        return f"{v:.2e}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(fmt(x, digits) for x in v) + "]"
    return str(v)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(round(seconds))
    if s < 60:
        return f"{seconds:.1f} s"
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min {s:02d} s"


def table(head: list[str], rows: list[str], cls: str = "", caption: str = "") -> str:
    """``rows`` are ready ``<tr>`` strings; ``head`` the column headers (escaped here)."""
    c = f' class="{esc(cls)}"' if cls else ""
    cap = f"<caption class=\"muted\">{caption}</caption>" if caption else ""
    ths = "".join(f'<th scope="col">{esc(h)}</th>' for h in head)
    return f'<div class="scroll"><table{c}>{cap}<thead><tr>{ths}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def kv(pairs: list[tuple[str, str]]) -> str:
    """A definition list; values are HTML (escape them first)."""
    return '<dl class="kv">' + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in pairs) + "</dl>"


def page(title: str, body: str, nav: list[tuple[str, str]], footer: str) -> str:
    links = "".join(f'<li><a href="#{esc(a)}">{esc(t)}</a></li>' for a, t in nav)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{esc(title)}</h1><nav aria-label=\"sections\"><ul>{links}</ul></nav></header>\n"
        f"<main>\n{body}\n</main>\n<footer>{footer}</footer>\n<script>{SLIDER_JS}</script>\n</body>\n</html>\n"
    )
