"""The document's print form as PDF (HTML → weasyprint), hermetic: nothing is fetched."""

from __future__ import annotations

import warnings
from typing import Any

import jinja2

from sandbox.onec.documents import card_fields, card_tables, presentation
from sandbox.onec.model import Document, Infobase

_TEMPLATE = jinja2.Environment(autoescape=True).from_string(
    """<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
  @page { size: A4; margin: 15mm; }
  body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; }
  h1 { font-size: 14pt; }
  table { border-collapse: collapse; width: 100%; margin-top: 4mm; }
  td, th { border: 0.5pt solid #444; padding: 1.5mm; text-align: left; }
  .fields td:first-child { width: 35%; color: #444; }
</style></head>
<body>
<h1>{{ title }}</h1>
<table class="fields">{% for name, value in fields %}
<tr><td>{{ name }}</td><td>{{ value }}</td></tr>{% endfor %}</table>
{% for name, columns, rows in tables %}
<h2>{{ name }}</h2>
<table><tr>{% for column in columns %}<th>{{ column }}</th>{% endfor %}</tr>
{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}
</table>
{% endfor %}
<p>Печатная форма 1С:Управление холдингом (эмулятор)</p>
</body></html>"""
)


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
    raise ValueError(f"the print form fetches nothing: {url}")


def render_html(ib: Infobase, document: Document) -> str:
    """The print form as HTML."""
    return _TEMPLATE.render(
        title=presentation(document),
        fields=card_fields(ib, document),
        tables=card_tables(ib, document),
    )


def render_pdf(ib: Infobase, document: Document) -> bytes:
    """The print form as PDF bytes."""
    with warnings.catch_warnings():
        # WeasyPrint warns at import that a future version will need HarfBuzz-Subset; not ours.
        warnings.filterwarnings("ignore", "HarfBuzz-Subset", DeprecationWarning)
        import weasyprint
    html = weasyprint.HTML(string=render_html(ib, document), url_fetcher=_refuse_fetch)
    pdf: bytes = html.write_pdf()
    return pdf
