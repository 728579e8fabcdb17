"""The 8D report (8D 报告) for a group of complaints chosen by a filter: sections D0–D8,
prefilled with what the store knows, and plain fields for what only the team can know.

What the store knows (from :func:`complaintkit.facts.iter_facts`): how many complaints, when,
which products and channels, how many distinct customers, severity and escalations, the
remedies offered and accepted (containment), the cause labels (a Pareto table: a starting point
for the root-cause analysis, not its result), the departments and handlers involved (the team),
repeat complaints and reopenings, missed SLA targets, and where the complaints stand now. A few
example complaints (reference and title) are read back in full.

What it cannot know — the verified root cause, the corrective actions the team decides, their
validation, the preventive changes, the sign-off — is written into each section as a field for the
team to complete, as on a paper 8D form.

Options (``[reports.8d]`` or ``--option``): ``title`` (what the problem is called) and ``owner``
(the 8D champion / team leader).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs

from complaintkit import (
    Chart,
    Column,
    ComplaintFacts,
    ComplaintFilter,
    EscalationLevel,
    Names,
    Report,
    ReportContext,
    Section,
    Status,
    Store,
    Table,
    label_names,
    name_of,
    structure_settings,
)
from complaintkit.facts import iter_facts
from complaintkit.model import OPEN_STATUSES, Channel, RemedyKind

from .common import SlaJudge, in_window, now_of, tz_of
from .formats.values import format_duration

#: How many example complaints D2 lists.
EXAMPLES = 5
OPTIONS = ("title", "owner")


@attrs.frozen
class _Options:
    """``[reports.8d]`` and ``--option``: the report's title and the team's owner."""

    title: str | None = None
    owner: str | None = None


_COUNT = Column("count", Names("complaints", "投诉数"), "count")
_SHARE = Column("share", Names("share", "占比"), "share")
_NONE = Names("(none)", "（无）")
_TODO = Names("To be completed by the team", "待小组填写")


class EightDReporter:
    """D0–D8 for the complaints matching the filter."""

    name = "8d"
    names = Names("8D report", "8D 报告")
    description = (
        "an 8D problem-solving report (D0–D8) for the complaints chosen by the filter, "
        "prefilled with counts, customers, containment remedies, causes and the team"
    )

    def run(self, store: Store, flt: ComplaintFilter, context: ReportContext) -> Report:
        """Build D0–D8 over the complaints matching ``flt``."""
        flt = in_window(flt, context)
        lang = context.lang
        where = context.config.where if context.config else "the configuration"
        options = structure_settings(
            context.settings(self.name), _Options, where=where, path="reports.8d"
        )

        def t(en: str, zh: str) -> str:
            return zh if lang == "zh" else en

        facts = list(iter_facts(store, flt))
        now = now_of(context)
        tz = tz_of(context)
        title = options.title or t("Complaints", "投诉问题")
        owner_text = options.owner or t("(to be named)", "（待指定）")
        todo = _TODO.get(lang)

        n = len(facts)
        customers = {f.customer for f in facts if f.customer is not None}
        unknown_customers = sum(1 for f in facts if f.customer is None)
        first = min((f.received_at for f in facts), default=None)
        last = max((f.received_at for f in facts), default=None)

        def day(at: datetime | None) -> str:
            return at.astimezone(tz).date().isoformat() if at is not None else "—"

        severity = context.schemes.get("severity")
        serious = sum(1 for f in facts if f.label("severity") == "serious")
        high = sum(1 for f in facts if f.escalation_level >= EscalationLevel.COMPLAINT_MANAGEMENT)
        escalated = sum(1 for f in facts if f.escalations)

        # --- D0 --------------------------------------------------------------------------
        d0 = Section(
            "D0",
            Names("D0 Plan and emergency response", "D0 准备与紧急响应"),
            (
                t(
                    f"Problem: {title}. {n:,} complaints chosen by the filter, received from "
                    f"{day(first)} to {day(last)}; report made on {day(now)}.",
                    f"问题：{title}。按筛选条件选出 {n:,} 件投诉，受理日期 {day(first)} 至 "
                    f"{day(last)}；报告生成于 {day(now)}。",
                ),
                t(
                    f"- Serious complaints: {serious:,}\n"
                    f"- At complaint management or leadership now: {high:,}\n"
                    f"- Escalated at least once: {escalated:,}",
                    f"- 严重投诉：{serious:,} 件\n"
                    f"- 当前在投诉管理部门或领导层处理：{high:,} 件\n"
                    f"- 至少升级过一次：{escalated:,} 件",
                ),
                t(
                    f"Emergency response actions taken and whether an 8D is warranted: {todo}.",
                    f"已采取的紧急响应措施及是否需要启动 8D：{todo}。",
                ),
            ),
            (
                _counted(
                    "severity",
                    Names("By severity", "按严重程度"),
                    Column("severity", Names("severity", "严重程度")),
                    [f.label("severity") for f in facts],
                    lambda v: label_names(severity, v).get(lang),
                ),
            ),
        )

        # --- D1 --------------------------------------------------------------------------
        departments = [f.department for f in facts]
        handlers = [f.assignee for f in facts]
        d1 = Section(
            "D1",
            Names("D1 Team", "D1 成立小组"),
            (
                t(
                    f"Team leader (champion): {owner_text}.",
                    f"组长（负责人）：{owner_text}。",
                ),
                t(
                    f"The departments and handlers who handled these complaints are listed below "
                    f"({len({d for d in departments if d})} departments, "
                    f"{len({h for h in handlers if h})} handlers): candidates for the team. "
                    f"Members, roles and the quality / technical experts: {todo}.",
                    f"下表列出处理过这些投诉的部门"
                    f"（{len({d for d in departments if d})} 个）和处理人"
                    f"（{len({h for h in handlers if h})} 人），可作为小组成员人选。"
                    f"成员、分工及质量/技术专家：{todo}。",
                ),
            ),
            (
                _counted(
                    "departments",
                    Names("Departments involved", "涉及部门"),
                    Column("department", Names("department", "部门")),
                    departments,
                    lambda v: v if v is not None else _NONE.get(lang),
                ),
                _counted(
                    "handlers",
                    Names("Handlers involved", "涉及处理人"),
                    Column("handler", Names("handler", "处理人")),
                    handlers,
                    lambda v: v if v is not None else _NONE.get(lang),
                ),
            ),
        )

        # --- D2 --------------------------------------------------------------------------
        examples = [context.masked(c) for c in store.find(flt, limit=EXAMPLES)]
        products = [f.product for f in facts]
        example_lines = "\n".join(f"- {c.reference}: {c.title or _short(c.text)}" for c in examples)
        d2_paragraphs = [
            t(
                f"{n:,} complaints from {len(customers):,} distinct customers"
                + (
                    f" (and {unknown_customers:,} complaints whose customer is not identified)"
                    if unknown_customers
                    else ""
                )
                + f", received from {day(first)} to {day(last)}, about "
                f"{len({p for p in products if p})} product(s) through "
                f"{len({f.channel for f in facts})} channel(s).",
                f"共 {n:,} 件投诉，涉及 {len(customers):,} 位不同客户"
                + (f"（另有 {unknown_customers:,} 件无法识别客户）" if unknown_customers else "")
                + f"，受理日期 {day(first)} 至 {day(last)}，涉及 "
                f"{len({p for p in products if p})} 种产品、"
                f"{len({f.channel for f in facts})} 个渠道。",
            ),
        ]
        if examples:
            d2_paragraphs.append(t("Example complaints:", "投诉示例："))
            d2_paragraphs.append(example_lines)
        d2_paragraphs.append(
            t(
                f"What is and is not affected (is / is not), and the problem statement in the "
                f"customer's words: {todo}.",
                f"问题界定（是/不是）及以客户语言描述的问题陈述：{todo}。",
            )
        )
        d2 = Section(
            "D2",
            Names("D2 Problem description", "D2 问题描述"),
            tuple(d2_paragraphs),
            (
                _counted(
                    "products",
                    Names("By product", "按产品"),
                    Column("product", Names("product", "产品")),
                    products,
                    lambda v: v if v is not None else _NONE.get(lang),
                    chart=True,
                ),
                _counted(
                    "channels",
                    Names("By channel", "按渠道"),
                    Column("channel", Names("channel", "渠道")),
                    [f.channel.value for f in facts],
                    lambda v: name_of(Channel(v), lang) if v else _NONE.get(lang),
                ),
                _counted(
                    "received",
                    Names("By month received", "按受理月份"),
                    Column("month", Names("month", "月份"), "date"),
                    [f.received_at.astimezone(tz).strftime("%Y-%m") for f in facts],
                    lambda v: v or "",
                    by_key=True,
                ),
            ),
        )

        # --- D3 --------------------------------------------------------------------------
        remedies = remedy_rows(facts)
        with_remedy = sum(1 for f in facts if f.remedies)
        accepted_any = sum(1 for f in facts if any(r.accepted for r in f.remedies))
        d3 = Section(
            "D3",
            Names("D3 Containment actions", "D3 临时遏制措施"),
            (
                t(
                    f"Remedies were offered on {with_remedy:,} of the {n:,} complaints and "
                    f"accepted on {accepted_any:,}; the table shows them by kind "
                    "(amounts per currency).",
                    f"{n:,} 件投诉中有 {with_remedy:,} 件提供了补救，"
                    f"{accepted_any:,} 件已被客户接受；"
                    "下表按补救类型（按币种汇总金额）列出。",
                ),
                t(
                    f"Other containment (stopping shipments, sorting stock, notices to customers) "
                    f"and how well it works: {todo}.",
                    f"其他遏制措施（停止发货、库存筛查、客户公告等）及其效果：{todo}。",
                ),
            ),
            (
                Table(
                    "remedies",
                    Names("Remedies (containment)", "补救措施（遏制）"),
                    (
                        Column("kind", Names("remedy", "补救类型")),
                        Column("offered", Names("offered", "已提供"), "count"),
                        Column("accepted", Names("accepted", "已接受"), "count"),
                        Column("amount", Names("amount offered", "提供金额"), "money"),
                        Column("accepted_amount", Names("amount accepted", "接受金额"), "money"),
                        Column("currency", Names("currency", "币种")),
                    ),
                    tuple(
                        (name_of(RemedyKind(kind), lang), *values, currency or "")
                        for (kind, currency), values in remedies.items()
                    ),
                ),
            ),
        )

        # --- D4 --------------------------------------------------------------------------
        cause = context.schemes.get("cause")
        causes = Counter(f.label("cause") for f in facts)
        recomplaints = sum(1 for f in facts if f.parent is not None)
        repeated = sum(1 for f in facts if f.recomplaint_count > 0)
        reopened = sum(1 for f in facts if f.reopened)
        judge = SlaJudge.of(context)
        # Missed as the sla report and ``clocks`` judge them: reached late, or past due.
        breaches = Counter(
            target
            for f in facts
            for target, outcome in judge.targets(f)
            if outcome in ("missed", "open_past_due")
        )
        d4 = Section(
            "D4",
            Names("D4 Root cause", "D4 根本原因分析"),
            (
                t(
                    "The cause labels below come from classification: a starting point for the "
                    "analysis, not a verified root cause.",
                    "下表的投诉原因来自分类结果，只是分析的起点，并非经过验证的根本原因。",
                ),
                t(
                    f"- Repeat complaints among them: {recomplaints:,}; complaints repeated "
                    f"later: {repeated:,}\n"
                    f"- Reopened after a resolution: {reopened:,}\n"
                    f"- SLA targets missed: "
                    + (", ".join(f"{k} {v}" for k, v in sorted(breaches.items())) or "none"),
                    f"- 其中复投诉：{recomplaints:,} 件；之后被再次投诉：{repeated:,} 件\n"
                    f"- 解决后又重新打开：{reopened:,} 件\n"
                    f"- 超时（SLA 目标未达成）："
                    + (
                        "，".join(f"{_TARGETS[k].zh} {v} 件" for k, v in sorted(breaches.items()))
                        or "无"
                    ),
                ),
                t(
                    f"Verified root cause (why it happened, why it was not detected), with the "
                    f"evidence (5 whys, fishbone, tests): {todo}.",
                    f"经验证的根本原因（为何发生、为何未被发现）"
                    f"及证据（5 Why、鱼骨图、试验）：{todo}。",
                ),
            ),
            (pareto(causes, n, lambda v: label_names(cause, v).get(lang)),),
        )

        # --- D5 --------------------------------------------------------------------------
        d5 = Section(
            "D5",
            Names("D5 Permanent corrective actions", "D5 永久纠正措施"),
            (
                t(
                    "The store records remedies for customers, not corrective actions on the "
                    "cause.",
                    "系统记录的是对客户的补救，而不是针对原因的纠正措施。",
                ),
                t(
                    f"Chosen corrective actions, who owns each, and the proof that they remove "
                    f"the root cause without side effects: {todo}.",
                    f"选定的纠正措施、各项负责人，以及证明其消除根本原因且无副作用的依据：{todo}。",
                ),
            ),
        )

        # --- D6 --------------------------------------------------------------------------
        statuses = Counter(f.status.value for f in facts)
        open_count = sum(1 for f in facts if f.status in OPEN_STATUSES)
        resolved = [f for f in facts if f.resolved_at is not None]
        hours = [(f.resolved_at - f.received_at).total_seconds() for f in resolved if f.resolved_at]
        median = statistics.median(hours) if hours else None
        scores = [f.satisfaction for f in facts if f.satisfaction is not None]
        d6 = Section(
            "D6",
            Names("D6 Implementation and validation", "D6 实施与验证"),
            (
                t(
                    f"Where the complaints stand: {n - open_count:,} of {n:,} finished (resolved, "
                    f"closed, withdrawn or rejected), {open_count:,} still open"
                    + (
                        f"; median time to resolve {format_duration(median, lang)}"
                        if median
                        else ""
                    )
                    + (
                        f"; satisfaction {statistics.mean(scores):.2f} from {len(scores)} scores"
                        if scores
                        else ""
                    )
                    + ".",
                    f"处理进展：{n:,} 件中已办结（解决、关闭、撤回或驳回）{n - open_count:,} 件，"
                    f"仍在处理 {open_count:,} 件"
                    + (f"；解决时间中位数 {format_duration(median, lang)}" if median else "")
                    + (
                        f"；满意度 {statistics.mean(scores):.2f}（{len(scores)} 个评分）"
                        if scores
                        else ""
                    )
                    + "。",
                ),
                t(
                    f"Implementation dates of the corrective actions and the validation that "
                    f"complaints stopped (e.g. the early-warning report after the change): {todo}.",
                    f"纠正措施的实施日期，以及投诉不再发生的验证结果（例如整改后的预警报告）：{todo}。",
                ),
            ),
            (
                Table(
                    "status",
                    Names("By status", "按状态"),
                    (Column("status", Names("status", "状态")), _COUNT, _SHARE),
                    tuple(
                        (name_of(s, lang), statuses[s.value], _share(statuses[s.value], n))
                        for s in Status
                        if statuses.get(s.value)
                    ),
                ),
            ),
        )

        # --- D7 --------------------------------------------------------------------------
        d7 = Section(
            "D7",
            Names("D7 Prevent recurrence", "D7 预防再发生"),
            (
                t(
                    f"Changes to processes, specifications, FMEA and control plans; other "
                    f"products, "
                    f"sites or channels with the same risk ({len({p for p in products if p})} "
                    f"products are affected here); lessons learned: {todo}.",
                    f"流程、规范、FMEA 和控制计划的修订；"
                    f"存在同类风险的其他产品、场所或渠道（本次涉及 "
                    f"{len({p for p in products if p})} 种产品）；经验教训：{todo}。",
                ),
            ),
        )

        # --- D8 --------------------------------------------------------------------------
        d8 = Section(
            "D8",
            Names("D8 Recognition and closure", "D8 表彰与结案"),
            (
                t(
                    f"{open_count:,} complaints are still open; close the 8D once they are closed "
                    f"and D6 shows the problem no longer occurs.",
                    f"仍有 {open_count:,} 件投诉未结案；"
                    "待其全部关闭且 D6 证明问题不再发生后方可结案。",
                ),
                t(
                    f"Closure date, sign-off by {owner_text} and recognition of the team: {todo}.",
                    f"结案日期、{owner_text}签字确认及对小组的表彰：{todo}。",
                ),
            ),
        )

        figures = (
            (Names("complaints", "投诉数"), n, "count"),
            (Names("affected customers", "涉及客户"), len(customers), "count"),
            (Names("first received", "最早受理"), day(first), "date"),
            (Names("last received", "最晚受理"), day(last), "date"),
            (Names("still open", "未结案"), open_count, "count"),
        )
        notes = []
        if not facts:
            notes.append(t("No complaint matches the filter.", "没有符合筛选条件的投诉。"))
        return Report(
            self.name,
            Names(f"8D report: {title}", f"8D 报告：{title}") if options.title else self.names,
            figures,
            sections=(d0, d1, d2, d3, d4, d5, d6, d7, d8),
            notes=tuple(notes),
            parameters={"title": title, "owner": options.owner or None, "now": now.isoformat()},
        )


_TARGETS = {
    "acknowledge": Names("acknowledge", "受理确认"),
    "respond": Names("respond", "首次答复"),
    "resolve": Names("resolve", "解决"),
}


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 80 else line[:79] + "…"


def _counted(
    key: str,
    names: Names,
    first: Column,
    values: Sequence[str | None],
    display: Callable[[str | None], str],
    *,
    chart: bool = False,
    by_key: bool = False,
) -> Table:
    counts = Counter(values)
    total = len(values)
    order = (
        sorted(counts, key=lambda k: k or "")
        if by_key
        else sorted(counts, key=lambda k: (-counts[k], k or ""))
    )
    rows = tuple((display(k), counts[k], _share(counts[k], total)) for k in order)
    return Table(
        key,
        names,
        (first, _COUNT, _SHARE),
        rows,
        Chart("bar", first.key, ("count",)) if chart else None,
    )


def pareto(counts: Counter[str | None], total: int, display: Callable[[str | None], str]) -> Table:
    """Causes, most frequent first, with the cumulative share (complaints without a cause
    label last)."""
    order = sorted((k for k in counts if k is not None), key=lambda k: (-counts[k], k))
    if None in counts:
        order.append(None)  # type: ignore[arg-type]
    rows: list[tuple[Any, ...]] = []
    running = 0
    for key in order:
        running += counts[key]
        rows.append((display(key), counts[key], _share(counts[key], total), _share(running, total)))
    return Table(
        "causes",
        Names("Cause labels (Pareto)", "投诉原因（帕累托）"),
        (
            Column("cause", Names("cause", "原因")),
            _COUNT,
            _SHARE,
            Column("cumulative", Names("cumulative share", "累计占比"), "share"),
        ),
        tuple(rows),
        Chart("pareto", "cause", ("count",)),
    )


def remedy_rows(
    facts: Iterable[ComplaintFacts],
) -> dict[tuple[str, str | None], tuple[int, int, float, float]]:
    """Per (remedy kind, currency): offered, accepted, amount offered, amount accepted."""
    rows: dict[tuple[str, str | None], list[float]] = {}
    for f in facts:
        for r in f.remedies:
            row = rows.setdefault((r.kind.value, r.currency), [0, 0, 0.0, 0.0])
            row[0] += 1
            row[2] += r.amount or 0.0
            if r.accepted:
                row[1] += 1
                row[3] += r.amount or 0.0
    ordered = sorted(rows.items(), key=lambda item: (-item[1][0], item[0][0], item[0][1] or ""))
    return {key: (int(v[0]), int(v[1]), round(v[2], 2), round(v[3], 2)) for key, v in ordered}
