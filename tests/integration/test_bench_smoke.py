"""The benchmarks run end to end at tiny sizes and write their JSON, so they cannot rot.

No figure is asserted: timings on a shared 2-core machine are for docs/performance.md, not for
a test's verdict.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import run
from bench.sizes import SMOKE


@pytest.mark.parametrize(
    ("letters", "sections"),
    [
        (
            "a",
            {
                "relay_limits_on",
                "relay_strict",
                "relay_roles",
                "relay_bases",
                "relay_limits_off",
                "relay_far",
                "pdf_reuse",
            },
        ),
        ("b", {"latency_push", "latency_polling"}),
        ("cd", {"sync_cost", "pdf_engines"}),
        ("e", {"memory"}),
    ],
)
def test_each_scenario_runs_and_writes_its_json(
    letters: str, sections: set[str], tmp_path: Path
) -> None:
    data = run.run(SMOKE, letters, results_dir=tmp_path)

    written = json.loads(Path(data["path"]).read_text(encoding="utf-8"))
    assert set(written["results"]) == sections
    assert written["sizes"] == "smoke"
    assert written["machine"]["nproc"] >= 1
    assert written["table"].startswith("| item | figure | reference | target |")
    # Not a figure but a sign the scenario measured what it says: every card reached its chat
    # (a relay that delivered nothing, e.g. to approvers linked in the wrong namespace, is rot).
    for name, result in written["results"].items():
        if name.startswith("relay_"):
            assert result["delivered"] >= result["tasks"] > 0, name


def test_the_docs_section_is_replaced_and_the_rest_kept(tmp_path: Path) -> None:
    docs = tmp_path / "performance.md"
    docs.write_text(
        f"# Before\n{run.LATEST_START}\nold table\n{run.LATEST_END}\n# After\n", encoding="utf-8"
    )
    data = {
        "started_at": "2026-11-27T12:00:00+03:00",
        "sizes": "full",
        "seconds": 1.0,
        "machine": {"nproc": 2, "cpu": "CPU", "python": "3.11", "os": "Linux", "wkhtmltopdf": "x"},
        "table": "| item | figure | reference | target | |\n",
    }

    run.update_docs(data, docs)

    text = docs.read_text(encoding="utf-8")
    assert "old table" not in text
    assert text.startswith("# Before\n") and text.endswith("# After\n")
    assert "2 cores (`nproc`), CPU, Python 3.11" in text
