"""A diff report as people and programs read it: text, JSON and GitHub job-summary Markdown.

Takes a :class:`mipc.diff.model.Report`; gives text. Pure.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from mipc.diff.model import REDACTED, FileChange, PhoneChange, Report, SettingChange

#: In text and github reports, a shared file lists at most this many phone names.
NAMES_SHOWN = 20

#: A github summary lists at most this many phones (job summaries are limited to 1 MiB).
GITHUB_ROWS = 300


def _value(value: str | None) -> str:
    if value is None:
        return "(unset)"
    if value == REDACTED:
        return REDACTED
    return json.dumps(value, ensure_ascii=False)


def setting_text(s: SettingChange) -> str:
    """One setting's change as a line shows it (secrets as their kind of change only)."""
    if s.secret:
        what = "added" if s.old is None else "removed" if s.new is None else "changed"
        return f"{s.key}: {REDACTED} ({what})"
    return f"{s.key}: {_value(s.old)} → {_value(s.new)}"


def _names(names: tuple[str, ...]) -> str:
    if not names:
        return "no listed phone (every phone, or network services)"
    shown = ", ".join(names[:NAMES_SHOWN])
    more = f", … and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
    return f"{len(names)} phone{'s' if len(names) != 1 else ''}: {shown}{more}"


def _field_value(value: str | None) -> str:
    return "(none)" if value is None else value


def phone_lines(p: PhoneChange) -> list[str]:
    """The text lines of one phone: ``NAME  what``."""
    name = p.name
    where = ", ".join(x for x in (p.address, p.model) if x)
    if p.status == "added":
        return [f"{name}  added ({where}; {len(p.own_files) + len(p.shared_files)} files)"]
    if p.status == "removed":
        return [f"{name}  removed ({where})"]
    lines = [f"{name}  {f.field}: {_field_value(f.old)} → {_field_value(f.new)}" for f in p.fields]
    for s in p.settings:
        suffix = f"  (in {s.file})" if " → " in s.file else ""
        lines.append(f"{name}  {setting_text(s)}{suffix}")
    own_changed = [f for f in p.own_files if f not in p.files_added and f not in p.files_removed]
    if own_changed:
        note = "" if p.settings else " (no setting changes decoded; see --files)"
        lines.append(f"{name}  files changed: {', '.join(own_changed)}{note}")
    if p.files_added:
        lines.append(f"{name}  now fetches: {', '.join(p.files_added)}")
    if p.files_removed:
        lines.append(f"{name}  no longer fetches: {', '.join(p.files_removed)}")
    if p.shared_files:
        lines.append(f"{name}  via shared: {', '.join(p.shared_files)}")
    return lines


def _file_status(f: FileChange) -> str:
    extra = f"+{f.lines_added} -{f.lines_removed} lines" if not f.binary else "binary"
    return f"{f.status}, {extra}"


def summary(report: Report) -> str:
    """The closing line: phones and files added, removed, changed and unchanged."""
    if not report.changed:
        c = report.phone_counts
        return f"no changes ({c.unchanged} phones, {report.file_counts.unchanged} files)"
    p, f = report.phone_counts, report.file_counts
    return (
        f"phones: {p.changed} changed, {p.added} added, {p.removed} removed,"
        f" {p.unchanged} unchanged; files: {f.changed} changed, {f.added} added,"
        f" {f.removed} removed, {f.unchanged} unchanged"
    )


def text_report(report: Report, *, files: bool = False) -> str:
    """The report for a terminal or a log; ``files`` adds unified diffs."""
    lines = [f"mipc diff: {report.old} → {report.new}"]
    for p in report.phones:
        lines.extend(phone_lines(p))
    shared = [f for f in report.files if f.shared]
    if shared:
        lines.append("shared files:")
        for f in shared:
            lines.append(f"  {f.path}  {_file_status(f)}; fetched by {_names(f.phones)}")
            lines.extend(f"    {setting_text(s)}" for s in f.settings)
    lines.append(summary(report))
    text = "\n".join(lines) + "\n"
    if files:
        text += "".join(f.unified or "" for f in report.files if f.unified)
    return text


def json_report(report: Report) -> dict[str, Any]:
    """The report as plain JSON data (``schemas/diff.schema.json``)."""

    def setting(s: SettingChange) -> dict[str, Any]:
        return {"key": s.key, "old": s.old, "new": s.new, "secret": s.secret, "file": s.file}

    def phone(p: PhoneChange) -> dict[str, Any]:
        return {
            "name": p.name,
            "status": p.status,
            "address": p.address,
            "mac": p.mac,
            "computer_name": p.computer_name,
            "family": p.family,
            "model": p.model,
            "digest_changed": p.digest_changed,
            "fields": [asdict(f) for f in p.fields],
            "settings": [setting(s) for s in p.settings],
            "own_files": list(p.own_files),
            "shared_files": list(p.shared_files),
            "files_added": list(p.files_added),
            "files_removed": list(p.files_removed),
        }

    def file(f: FileChange) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": f.path,
            "status": f.status,
            "phones": list(f.phones),
            "shared": f.shared,
            "decoded": f.decoded,
            "binary": f.binary,
            "lines_added": f.lines_added,
            "lines_removed": f.lines_removed,
            "settings": [setting(s) for s in f.settings],
        }
        if f.unified is not None:
            out["unified"] = f.unified
        return out

    return {
        "format": 1,
        "old": report.old,
        "new": report.new,
        "changed": report.changed,
        "summary": {
            "phones": asdict(report.phone_counts),
            "files": asdict(report.file_counts),
        },
        "phones": [phone(p) for p in report.phones],
        "files": [file(f) for f in report.files],
        "rollout": report.rollout(),
    }


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def github_report(report: Report, *, files: bool = False) -> str:
    """Markdown for a CI job summary (``$GITHUB_STEP_SUMMARY``)."""
    out = [f"### mipc diff: {_md(report.old)} → {_md(report.new)}", ""]
    if not report.changed:
        out.append(f"**{summary(report)}**")
        return "\n".join(out) + "\n"
    p, f = report.phone_counts, report.file_counts
    out += [
        "| | changed | added | removed | unchanged |",
        "|---|---:|---:|---:|---:|",
        f"| phones | {p.changed} | {p.added} | {p.removed} | {p.unchanged} |",
        f"| files | {f.changed} | {f.added} | {f.removed} | {f.unchanged} |",
        "",
    ]
    if report.phones:
        out += ["| phone | address | change |", "|---|---|---|"]
        for ph in report.phones[:GITHUB_ROWS]:
            changes = [_md(line.partition("  ")[2]) for line in phone_lines(ph)]
            addr = f"`{ph.address}`" if ph.address else ""
            out.append(f"| {_md(ph.name)} | {addr} | {'<br>'.join(changes)} |")
        if len(report.phones) > GITHUB_ROWS:
            out.append(f"| … | | {len(report.phones) - GITHUB_ROWS} more phones |")
        out.append("")
    shared = [x for x in report.files if x.shared]
    if shared:
        out += ["**Shared files**", ""]
        for x in shared:
            out.append(f"- `{x.path}` {_file_status(x)}; fetched by {_md(_names(x.phones))}")
            out.extend(f"  - `{_md(setting_text(s))}`" for s in x.settings)
        out.append("")
    if files:
        for x in report.files:
            if x.unified:
                out += [
                    f"<details><summary><code>{x.path}</code></summary>",
                    "",
                    "```diff",
                    x.unified.rstrip("\n"),
                    "```",
                    "</details>",
                    "",
                ]
    return "\n".join(out) + "\n"
