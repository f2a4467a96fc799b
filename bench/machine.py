"""What a run ran on, printed with its table (the figures mean little without it)."""

from __future__ import annotations

import os
import platform
import subprocess
from typing import Any


def cpu_model() -> str:
    """The CPU model named in /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe() -> dict[str, Any]:
    """nproc, CPU model, Python, OS, wkhtmltopdf."""
    try:
        wk = subprocess.run(
            ["wkhtmltopdf", "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        wk = "not found"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "os": platform.platform(),
        "wkhtmltopdf": wk,
    }


def line(machine: dict[str, Any]) -> str:
    """One line for the Markdown."""
    return (
        f"{machine['nproc']} cores (`nproc`), {machine['cpu']}, Python {machine['python']},"
        f" {machine['os']}, {machine['wkhtmltopdf']}"
    )
