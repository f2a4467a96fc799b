"""Jinja2 templates for the PDF: the installation's directory first, then the built-in ones.

A document type gets `<subject.type>.html` when one exists (e.g.
`Document_ЗаявкаНаРасходованиеДенежныхСредств.html`), `default.html` otherwise. Templates are
read once per process, so the fingerprint in the cache key always matches what is rendered:
after editing templates, restart the gateway.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Final

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from gateway.errors import ConfigurationError

BUILTIN_TEMPLATES: Final = Path(__file__).parent / "templates"
DEFAULT_TEMPLATE: Final = "default.html"
# A subject type becomes a file name only if it is one plain name: no paths, no dots in front.
_TYPE_NAME_RE = re.compile(r"^\w[\w.-]*$")


class Templates:
    """The templates of one installation: choice per document type, fingerprint, rendering."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        self.dirs = [d for d in (templates_dir, BUILTIN_TEMPLATES) if d is not None]
        self._env = ImmutableSandboxedEnvironment(
            loader=jinja2.FileSystemLoader([str(d) for d in self.dirs], encoding="utf-8"),
            # Every template, whatever its extension, escapes what it prints.
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            auto_reload=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["css_string"] = css_string
        try:
            self._names = frozenset(self._env.list_templates())
        except OSError as exc:
            raise ConfigurationError(f"PDF templates cannot be read: {exc}") from exc
        self.fingerprint = self._fingerprint()

    def name_for(self, subject_type: str) -> str:
        """The template that renders documents of `subject_type`."""
        own = f"{subject_type}.html"
        if _TYPE_NAME_RE.match(subject_type) and own in self._names:
            return own
        return DEFAULT_TEMPLATE

    def render(self, name: str, context: dict[str, Any]) -> str:
        """The HTML of template `name`; a broken template is the installation's to fix."""
        try:
            return self._env.get_template(name).render(context)
        except jinja2.TemplateError as exc:
            where = f" (line {exc.lineno})" if isinstance(exc, jinja2.TemplateSyntaxError) else ""
            raise ConfigurationError(f"PDF template {name}{where}: {exc}") from exc

    def _fingerprint(self) -> str:
        # Every file of every directory: a template may include or extend any of them.
        digest = hashlib.sha256()
        for folder in self.dirs:
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                digest.update(str(path.relative_to(folder)).encode("utf-8") + b"\0")
                digest.update(path.read_bytes() + b"\0")
        return digest.hexdigest()[:12]


def css_string(value: object) -> Markup:
    """`value` as a quoted CSS string that cannot end the string, the rule or the style tag."""
    text = "".join(
        ch if ch.isalnum() or ch in " .,:;-_№()" else f"\\{ord(ch):x} " for ch in str(value)
    )
    return Markup(f'"{text}"')
