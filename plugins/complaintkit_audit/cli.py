"""``complaintkit audit``: check every history's hash chain (``verify``), seal histories
written before chains existed (``seal``), and print the heads to keep elsewhere (``head``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from complaintkit.commands import CommandContext, output_option

if TYPE_CHECKING:
    from .chains import Finding, Verification

__all__ = ["audit_group"]


def echo(text: str, *, err: bool = False) -> None:
    """Print a line that may quote a complaint's reference or an actor, inert."""
    from complaintkit.display import terminal_safe

    click.echo(terminal_safe(text), err=err)


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident history: every complaint's events are hash-chained."""


@audit_group.command("verify")
@click.option(
    "--reference",
    "references",
    multiple=True,
    metavar="REF",
    help="Check only this complaint (repeat for several). Default: every complaint.",
)
@click.option(
    "--anchor",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="An anchor file written earlier by `audit head --output`: also check that every "
    "chain still passes through the head it had then.",
)
@output_option("table", "json")
@click.pass_obj
def verify_command(
    app: CommandContext, references: tuple[str, ...], anchor: Path | None, fmt: str
) -> None:
    """Check the hash chain of every complaint's history and name the first broken link of
    each (reference, event index, action, expected and found digest).

    Reads the store as a stream, so memory stays flat on any backend. Exits with status 1
    when a chain is broken, a history is not sealed (run `complaintkit audit seal` once on a
    store written before histories were sealed), or an anchored head is gone.
    """
    from complaintkit.display import json_text
    from complaintkit.storage import ComplaintFilter

    from .chains import read_anchor, verify_store

    kept, anchor_digest = read_anchor(anchor) if anchor is not None else (None, None)
    store = app.store
    flt = ComplaintFilter(references=frozenset(references)) if references else None
    with app.progress("verifying", store.count(flt)) as bar:
        result = verify_store(store, flt, anchor=kept, progress=bar.update)
    if references:
        missing = sorted(set(references) - store.existing(references))
        if missing:
            raise click.UsageError(f"no complaint {', '.join(missing)} in the store")
    if fmt == "json":
        data = result.as_data()
        if anchor is not None:
            data["anchor"] = {"file": str(anchor), "digest": anchor_digest}
        click.echo(json_text(data))
    else:
        _print(app, result, anchor, anchor_digest)
    if not result.ok:
        sys.exit(1)


def _print(
    app: CommandContext, result: Verification, anchor: Path | None, anchor_digest: str | None
) -> None:
    zh = app.lang == "zh"
    for finding in result.findings:
        echo(_describe(finding, zh))
    hidden = result.broken_count + result.unsealed_count + result.anchor_count
    hidden -= len(result.findings)
    if hidden > 0:
        echo(f"… {hidden:,} {'处未列出' if zh else 'more not shown (use --format json)'}")
    if zh:
        line = f"已检查 {result.complaints:,} 条投诉、{result.events:,} 个事件"
        if result.ok:
            line += "：所有哈希链完整"
        else:
            line += (
                f"：{result.broken_count:,} 条链断裂，{result.unsealed_count:,} 条未封存，"
                f"{result.anchor_count:,} 条与锚点不符"
            )
    else:
        line = f"checked {result.complaints:,} complaints, {result.events:,} events: "
        if result.ok:
            line += "every chain holds"
        else:
            line += (
                f"{result.broken_count:,} broken, {result.unsealed_count:,} unsealed, "
                f"{result.anchor_count:,} off their anchor"
            )
    echo(line)
    if result.sealed_after_the_fact:
        echo(
            f"{result.sealed_after_the_fact:,} 条历史为事后封存（audit seal）"
            if zh
            else f"{result.sealed_after_the_fact:,} histories were sealed after the fact "
            "(audit seal): their chain vouches only for what happened since"
        )
    if result.erasures:
        echo(
            f"{result.erasures:,} 条历史含个人信息删除（已重新封存）"
            if zh
            else f"{result.erasures:,} histories were re-sealed by an erasure of personal data"
        )
    if anchor is not None:
        echo(
            f"锚点 {anchor}：{result.anchored:,} 条投诉，摘要 {anchor_digest}"
            "（请与另处保存的副本比对）"
            if zh
            else f"anchor {anchor}: {result.anchored:,} complaints checked against it, digest "
            f"{anchor_digest} (compare with the copy kept elsewhere)"
        )
        if result.rewritten_since_anchor:
            shown = ", ".join(result.rewritten_since_anchor[:20])
            echo(
                f"锚点之后经删除重写、无法核对锚点的投诉：{shown}"
                if zh
                else f"rewritten by an erasure since the anchor (anchored head not checkable): "
                f"{shown}"
                + (
                    f" and {len(result.rewritten_since_anchor) - 20:,} more"
                    if len(result.rewritten_since_anchor) > 20
                    else ""
                )
            )


def _describe(f: Finding, zh: bool) -> str:
    if f.kind == "unsealed":
        return (
            f"{f.reference}: 未封存（{f.detail}）；请运行 complaintkit audit seal"
            if zh
            else f"{f.reference}: unsealed ({f.detail}); run complaintkit audit seal"
        )
    if f.kind == "anchor":
        where = f" event {f.index} ({f.action})" if f.action is not None else ""
        return f"{f.reference}:{where} {'与锚点不符' if zh else 'off its anchor'}: {f.detail}"
    found = f.found if f.found is not None else ("无摘要" if zh else "no digest")
    if zh:
        return (
            f"{f.reference}: 第 {f.index} 个事件（{f.action}）链断裂："
            f"应为 {f.expected}，实为 {found}"
        )
    return (
        f"{f.reference}: broken at event {f.index} ({f.action}): expected {f.expected}, "
        f"found {found}"
    )


@audit_group.command("seal")
@click.pass_obj
def seal_command(app: CommandContext) -> None:
    """Seal the histories of a store written before complaintkit sealed them; run once after
    upgrading.

    Each history without any digest gets an `audit_sealed` event (how many events were there
    unsealed, by --actor) and its whole chain is computed, so the record shows where sealing
    began. Sealed histories are left alone; a history with only some digests is never sealed
    (that would hide a removed digest): it is listed, and `audit verify` names its broken link.
    """
    from .chains import seal_store

    store = app.store
    desk = app.desk
    with app.progress("sealing", store.count()) as bar:
        result = seal_store(store, actor=desk.actor, at=desk.clock, progress=bar.update)
    zh = app.lang == "zh"
    echo(
        f"已封存 {result.sealed:,} 条历史；{result.already:,} 条原已封存"
        if zh
        else f"sealed {result.sealed:,} histories; {result.already:,} were sealed already"
    )
    for reference in result.damaged:
        echo(
            f"{reference}: 部分事件有摘要，未封存；请运行 audit verify"
            if zh
            else f"{reference}: some events carry a digest and some not: not sealed; "
            "see complaintkit audit verify",
            err=True,
        )
    if result.conflicts:
        echo(
            f"{len(result.conflicts):,} complaints changed while sealing (their next write "
            f"seals them; or run audit seal again): {', '.join(result.conflicts[:20])}",
            err=True,
        )
    if result.damaged or result.conflicts:
        sys.exit(1)


@audit_group.command("head")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write every complaint's head here (JSON lines; the anchor `audit verify --anchor` "
    "reads).",
)
@click.pass_obj
def head_command(app: CommandContext, output: Path | None) -> None:
    """Print one digest over the heads (last digests) of every complaint's chain.

    Keep it somewhere the store's writers cannot reach (another machine, a ticket, a printed
    report): whoever rewrites a history and recomputes every digest changes it. With
    --output the heads themselves are written, so `audit verify --anchor FILE` can later tell
    which complaint was rewritten; the digest printed vouches for that file.
    """
    from .chains import write_heads

    store = app.store
    with app.progress("reading heads", store.count()) as bar:
        count, digest = write_heads(store, output, progress=bar.update)
    click.echo(digest)
    echo(
        f"{count:,} 条投诉的链头摘要" + (f"，已写入 {output}" if output else "")
        if app.lang == "zh"
        else f"digest over the heads of {count:,} complaints"
        + (f"; heads written to {output}" if output else ""),
        err=True,
    )
