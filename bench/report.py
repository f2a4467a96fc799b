"""The Markdown tables of a run: each figure beside its reference and the issue's target."""

from __future__ import annotations

from typing import Any

MET, MISSED, NONE = "met", "**missed**", "—"


def _ms(summary: dict[str, Any] | None, *keys: str) -> str:
    if not summary or not summary.get("n"):
        return "no samples"
    return " / ".join(f"{summary.get(k)}" for k in keys) + f" ms (n={summary['n']})"


def _status(ok: bool | None) -> str:
    return NONE if ok is None else (MET if ok else MISSED)


def _row(item: str, figure: str, reference: str, target: str, ok: bool | None) -> str:
    return f"| {item} | {figure} | {reference} | {target} | {_status(ok)} |"


def _share_of_ceiling(relay: dict[str, Any]) -> str:
    """A relay's rate as a share of the ceiling the flood limits allow."""
    share = relay.get("share_of_ceiling")
    return f"ceiling {relay['ceiling_per_second']:g} msg/s: {share and round(share * 100, 1)} %"


def _refusals_row(item: str, relay: dict[str, Any], reference: str) -> str:
    """The 429 answers of a relay, as the emulator logged them and as the gateway saw them."""
    refused = int(relay.get("answers_429_emulator", 0))
    return _row(
        item,
        f"{refused} (emulator log); {relay.get('answers_429_gateway')} (gateway)",
        reference,
        "0",
        refused == 0,
    )


def _shared_ceiling_row(
    item: str, relay: dict[str, Any], detail: str, reference: str, target: str
) -> str:
    """A relay run with limits on whose tasks share the one ceiling (roles, several bases): met at
    29 msg/s with no 429 answers and every card delivered. `detail` goes between the rate and the
    count of 429 answers, which closes its parenthesis."""
    rate = relay.get("messages_per_second")
    refused = int(relay.get("answers_429_emulator", 0))
    return _row(
        item,
        f"{rate} msg/s {detail}; {refused} answers 429)",
        reference,
        target,
        None
        if rate is None
        else rate >= 29 and refused == 0 and relay["delivered"] == relay["tasks"],
    )


def _relay_rows(
    on: dict[str, Any] | None,
    off: dict[str, Any] | None,
    far: dict[str, Any] | None = None,
    strict: dict[str, Any] | None = None,
    roles: dict[str, Any] | None = None,
    bases: dict[str, Any] | None = None,
) -> list[str]:
    rows = []
    if on:
        rate = on.get("messages_per_second")
        rows.append(
            _row(
                "(a) relay, limits on",
                f"{rate} msg/s ({on['delivered']}/{on['tasks']} delivered)",
                _share_of_ceiling(on),
                "≥ 29 msg/s (≥ 97 %)",
                None if rate is None else rate >= 29 and on["delivered"] == on["tasks"],
            )
        )
        rows.append(_refusals_row("(a) 429 answers, limits on", on, "—"))
        ideal = round(on["tasks"] / on["ceiling_per_second"], 1)
        rows.append(
            _row(
                "(a) time to drain, limits on",
                f"{on.get('drain_seconds')} s (first message"
                f" {on.get('first_message_after_start_seconds')} s after start)",
                f"{ideal} s at the ceiling",
                "—",
                None,
            )
        )
    if roles:
        rows.append(
            _shared_ceiling_row(
                "(a) relay, limits on, a third of the tasks addressed to roles of 3",
                roles,
                f"({roles['delivered']}/{roles['tasks']} cards delivered,"
                f" {roles.get('role_tasks')} role tasks",
                f"ceiling {roles['ceiling_per_second']:g} msg/s",
                "≥ 29 msg/s, 0 answers 429",
            )
        )
    if bases:
        split = " + ".join(f"{n} {b}" for b, n in bases.get("tasks_by_base", {}).items())
        rows.append(
            _shared_ceiling_row(
                "(a) relay, limits on, two bases behind one bot (ONEC_BASES=uh,erp)",
                bases,
                f"in total ({bases['delivered']}/{bases['tasks']} delivered: {split}",
                f"one bot, one ceiling: {bases['ceiling_per_second']:g} msg/s",
                "≥ 29 msg/s in total, 0 answers 429",
            )
        )
    if strict:
        rate = strict.get("messages_per_second")
        rows.append(
            _row(
                "(a) relay, strict limits (30 in any second, 1 per chat)",
                f"{rate} msg/s ({strict['delivered']}/{strict['tasks']} delivered,"
                f" drained in {strict.get('drain_seconds')} s)",
                _share_of_ceiling(strict),
                "≥ 28.5 msg/s (≥ 95 %)",
                None if rate is None else rate >= 28.5 and strict["delivered"] == strict["tasks"],
            )
        )
        rows.append(
            _refusals_row(
                "(a) 429 answers, strict limits",
                strict,
                "before issue 17: 17 answers 429 in a relay of 300 cards",
            )
        )
    if off:
        rows.append(
            _row(
                "(a) relay, limits off",
                f"{off.get('messages_per_second')} msg/s, drained in {off.get('drain_seconds')} s",
                f"limits on: {on and on.get('messages_per_second')} msg/s",
                "the gateway's own ceiling",
                None,
            )
        )
    if far:
        latency_ms = round(far["telegram_latency_seconds"] * 1000)
        rows.append(
            _row(
                f"(a) relay, limits on, every Bot API call {latency_ms} ms",
                f"{far.get('messages_per_second')} msg/s"
                f" ({far['delivered']}/{far['tasks']} delivered,"
                f" {far.get('answers_429_emulator')} answers 429)",
                f"one send at a time: at most {round(1 / far['telegram_latency_seconds'], 1):g}"
                f" msg/s; loopback: {on and on.get('messages_per_second')} msg/s",
                "—",
                None,
            )
        )
    return rows


def _latency_rows(push: dict[str, Any] | None, polling: dict[str, Any] | None) -> list[str]:
    rows = []
    keys = ("p50_ms", "p95_ms", "p99_ms")
    if push:
        p = push["push_to_message"]
        poll_ref = "—"
        if polling:
            poll_ref = f"polling every {polling['poll_interval_seconds']:g} s: " + _ms(
                polling["push_to_message"], *keys
            )
        ok = None
        if p.get("n"):
            ok = float(p["p50_ms"]) <= 300 and float(p["p99_ms"]) <= 1000
        rows.append(
            _row(
                "(b) 1C push → message, p50/p95/p99",
                _ms(p, *keys),
                poll_ref,
                "p50 ≤ 300 ms, p99 ≤ 1 s",
                ok,
            )
        )
        q = push["press_to_1c_write"]
        on_top = push.get("press_p50_on_top_of_1c_ms")
        rows.append(
            _row(
                "(b) press → 1C write, p50/p95/p99",
                _ms(q, *keys),
                f"1C's own decision request p50 {push['onec_own_decision'].get('p50_ms')} ms;"
                f" on top: {on_top} ms",
                "p50 ≤ 100 ms on top of 1C",
                None if on_top is None else on_top <= 100,
            )
        )
    return rows


def _pdf_rows(engines: dict[str, Any] | None, reuse: dict[str, Any] | None) -> list[str]:
    rows = []
    if engines:
        k = engines.get("pdfkit", {})
        w = engines.get("weasyprint", {})
        rows.append(
            _row(
                "(d) pdfkit ms/document, p50/p95",
                _ms(k, "p50_ms", "p95_ms"),
                "weasyprint: " + _ms(w, "p50_ms", "p95_ms"),
                "—",
                None,
            )
        )
    if reuse:
        rows.append(
            _row(
                "(d) renderings / uploads per 1,000 deliveries",
                f"{reuse['renderings_per_1000']} / {reuse['uploads_per_1000']}"
                f" ({reuse['deliveries']} deliveries of {reuse['documents']} documents)",
                f"per document: {reuse['renderings_per_document']} renderings,"
                f" {reuse['uploads_per_document']} uploads",
                "≤ 1 rendering, ≤ 1 upload per document version",
                reuse["renderings_per_document"] <= 1 and reuse["uploads_per_document"] <= 1,
            )
        )
    return rows


def _memory_rows(memory: dict[str, Any] | None, relay_on: dict[str, Any] | None) -> list[str]:
    rows = []
    if memory:
        for connector in ("odata", "http"):
            if connector not in memory:
                continue
            peak = memory[connector].get("peak_rss_mb")
            rows.append(
                _row(
                    f"(e) worker peak RSS, {memory['pending']:,} pending, {connector}",
                    f"{peak} MB",
                    f"idle worker: {memory.get('idle_mb')} MB",
                    "≤ 150 MB",
                    None if peak is None else peak <= 150,
                )
            )
    if relay_on and relay_on.get("worker_peak_rss_mb") is not None:
        rows.append(
            _row(
                "(e) worker peak RSS during (a)",
                f"{relay_on['worker_peak_rss_mb']} MB",
                f"idle worker: {memory and memory.get('idle_mb')} MB",
                "—",
                None,
            )
        )
    return rows


def _sync_table(sync: dict[str, Any]) -> list[str]:
    connectors = ("odata", "http", "soap")
    lines = [
        "",
        "(c) Sync pass with nothing changed: 1C requests per pass (of which key batches, reads"
        " of the performers register and of the users group) and the gateway's CPU per pass;"
        " first pass in brackets. Target at 10,000: no per-task or per-document request; odata"
        " ≤ 3 requests for the tasks, ≤ 1 for the register, ≤ 1 for the group; http ≤ 2.",
        "",
        "| pending | " + " | ".join(connectors) + " | target |",
        "| --- | " + " | ".join("---" for _ in connectors) + " | --- |",
    ]
    for pending, by_connector in sync["by_pending"].items():
        cells = []
        for connector in connectors:
            r = by_connector.get(connector)
            if r is None:
                cells.append("not run")
                continue
            per, first = r["per_pass"], r["first_pass"]
            cells.append(
                f"{per['requests']:g} req ({per['key_batches']:g} batches,"
                f" {per.get('register', 0):g} register, {per.get('groups', 0):g} group),"
                f" {per['cpu_ms']:g} ms CPU"
                f" [{first['requests']} req, {first['cpu_ms']:g} ms]"
            )
        http = by_connector.get("http", {}).get("per_pass", {})
        status = NONE
        # A verdict only when every connector ran: the quick sizes skip odata and soap there.
        if int(pending) >= 10_000 and http and len(by_connector) == len(connectors):
            per_entity = any(
                r["per_pass"]["one_entity"] > 0 or r["per_pass"]["key_batches"] > 0
                for r in by_connector.values()
            )
            odata = by_connector["odata"]["per_pass"]
            register, groups = odata.get("register", 0), odata.get("groups", 0)
            odata_ok = odata["requests"] - register - groups <= 3 and register <= 1 and groups <= 1
            status = _status(http["requests"] <= 2 and not per_entity and odata_ok)
        lines.append(f"| {int(pending):,} | " + " | ".join(cells) + f" | {status} |")
    return lines


def tables(results: dict[str, Any]) -> str:
    """The run's Markdown: the main table, then the sync-cost table."""
    lines = [
        "| item | figure | reference | target | |",
        "| --- | --- | --- | --- | --- |",
    ]
    relay_on, relay_off = results.get("relay_limits_on"), results.get("relay_limits_off")
    lines += _relay_rows(
        relay_on,
        relay_off,
        results.get("relay_far"),
        results.get("relay_strict"),
        results.get("relay_roles"),
        results.get("relay_bases"),
    )
    lines += _latency_rows(results.get("latency_push"), results.get("latency_polling"))
    lines += _pdf_rows(results.get("pdf_engines"), results.get("pdf_reuse"))
    lines += _memory_rows(results.get("memory"), relay_on)
    if results.get("sync_cost"):
        lines += _sync_table(results["sync_cost"])
    return "\n".join(lines) + "\n"
