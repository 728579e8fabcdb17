"""The Pareto report: the labels of one scheme (by default the cause) from most to least
frequent, with each one's share and the cumulative share, and the "vital few" — the labels that
together make up 80% of the classified complaints.

Counted with ``Store.count_by("label:SCHEME")``, so a database backend counts for it.
"""

from __future__ import annotations

from typing import ClassVar

from complaintkit import (
    Chart,
    Column,
    ComplaintFilter,
    Names,
    Report,
    ReportContext,
    Store,
    Table,
    label_names,
)

from .common import in_window, scheme_option

#: The cumulative share the vital few reach.
VITAL = 0.8
_YES = Names("yes", "是")


class ParetoReporter:
    """Labels of a scheme by frequency, with cumulative shares and the vital few."""

    name = "pareto"
    names = Names("Pareto of causes", "投诉原因帕累托分析")
    description = (
        "the labels of a scheme (default: cause) from most to least frequent with share and "
        "cumulative share, and the vital few that make up 80% of the complaints"
    )
    options: ClassVar[dict[str, str]] = {
        "scheme": "the classification scheme to rank (default: cause)"
    }

    def run(self, store: Store, flt: ComplaintFilter, context: ReportContext) -> Report:
        """Rank the labels of the chosen scheme over the complaints matching ``flt``."""
        flt = in_window(flt, context)
        lang = context.lang
        scheme_name = scheme_option(context, self.name, "scheme", "cause")
        scheme = context.schemes[scheme_name]
        counts = store.count_by(f"label:{scheme_name}", flt)
        unclassified = counts.pop(None, 0)
        classified = sum(counts.values())
        ranked = sorted(((k, n) for k, n in counts.items() if n), key=lambda kn: (-kn[1], kn[0]))
        rows = []
        vital: list[str] = []
        running = vital_count = 0
        for label, n in ranked:
            before = running / classified
            running += n
            shown = label_names(scheme, label).get(lang)
            is_vital = before < VITAL
            if is_vital:
                vital.append(shown)
                vital_count += n
            rows.append(
                (
                    shown,
                    label,
                    n,
                    round(n / classified, 4),
                    round(running / classified, 4),
                    _YES.get(lang) if is_vital else "",
                )
            )
        table = Table(
            "pareto",
            Names("Labels, most complaints first", "各标签投诉数（从多到少）"),
            (
                Column(scheme_name, scheme.names),
                Column("label", Names("label", "标签")),
                Column("count", Names("complaints", "投诉数"), "count"),
                Column("share", Names("share", "占比"), "share"),
                Column("cumulative", Names("cumulative share", "累计占比"), "share"),
                Column("vital", Names("vital few", "关键少数")),
            ),
            tuple(rows),
            Chart("pareto", scheme_name, ("count", "cumulative")),
        )
        figures = (
            (Names("classified complaints", "已分类投诉"), classified, "count"),
            (Names("unclassified complaints", "未分类投诉"), unclassified, "count"),
            (Names("vital few", "关键少数"), ", ".join(vital), "text"),
            (Names("vital few labels", "关键少数标签数"), len(vital), "count"),
            (
                Names("share of the vital few", "关键少数占比"),
                round(vital_count / classified, 4) if classified else None,
                "share",
            ),
        )
        return Report(
            self.name,
            Names(f"Pareto of {scheme.names.en.lower()}", f"{scheme.names.zh}帕累托分析"),
            figures,
            (table,),
            parameters={"scheme": scheme_name, "vital": VITAL},
        )
