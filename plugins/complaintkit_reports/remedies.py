"""The remedies report (补救): what was offered and accepted, by kind, the amounts per currency,
and what remedies cost by department and by cause.

One pass over the few facts it needs (:func:`complaintkit.facts.iter_fact_columns`: computed in
the database on SQL). Every offer counts once (a complaint may have several); **accepted**
offers are those the customer accepted, and their amounts are the **cost**. Amounts are never
added across currencies: each currency has its own rows, and offers without an amount (an
apology, an explanation) are counted but add nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from typing import ClassVar

from complaintkit import (
    Chart,
    Column,
    ComplaintFilter,
    Names,
    RemedyKind,
    Report,
    ReportContext,
    Store,
    Table,
    label_names,
    name_of,
)
from complaintkit.facts import iter_fact_columns

from .common import NONE, in_window, scheme_option, share

_NO_CURRENCY = Names("(no currency)", "（无币种）")
_CURRENCY = Column("currency", Names("currency", "币种"))
_MONEY = (
    Column("complaints", Names("complaints with remedies", "有补救的投诉"), "count"),
    Column("offered", Names("offers", "提供次数"), "count"),
    Column("accepted", Names("accepted", "接受次数"), "count"),
    Column("offered_amount", Names("amount offered", "提供金额"), "money"),
    Column("cost", Names("cost (accepted)", "成本（已接受）"), "money"),
)


class _Money:
    """Offers, acceptances and amounts of one group in one currency."""

    def __init__(self) -> None:
        self.complaints: set[str] = set()
        self.offered = self.accepted = 0
        self.offered_amount = self.cost = 0.0

    def row(self, priced: bool) -> tuple[object, ...]:
        """The table row; without a currency (offers with no amount) the amounts are empty."""
        return (
            len(self.complaints),
            self.offered,
            self.accepted,
            round(self.offered_amount, 2) if priced else None,
            round(self.cost, 2) if priced else None,
        )


class RemediesReporter:
    """Remedies by kind, offered against accepted, amounts and cost by department and cause."""

    name = "remedies"
    names = Names("Remedies", "补救措施")
    description = (
        "remedies by kind, offered against accepted, amounts per currency, and the cost of "
        "accepted remedies by department and by cause"
    )
    options: ClassVar[dict[str, str]] = {
        "scheme": "the classification scheme to break the cost down by (default: cause)"
    }

    def run(self, store: Store, flt: ComplaintFilter, context: ReportContext) -> Report:
        """Add up the remedies of the complaints matching ``flt``."""
        flt = in_window(flt, context)
        lang = context.lang
        scheme_name = scheme_option(context, self.name, "scheme", "cause")
        scheme = context.schemes[scheme_name]
        offered: Counter[RemedyKind] = Counter()
        accepted: Counter[RemedyKind] = Counter()
        by_kind: dict[tuple[RemedyKind, str | None], _Money] = defaultdict(_Money)
        by_department: dict[tuple[str | None, str | None], _Money] = defaultdict(_Money)
        by_label: dict[tuple[str | None, str | None], _Money] = defaultdict(_Money)
        with_remedies = 0
        fields = ("remedies", "reference", "department", f"label:{scheme_name}")
        for remedies, reference, department, label in iter_fact_columns(store, flt, fields):
            if not remedies:
                continue
            with_remedies += 1
            for r in remedies:
                offered[r.kind] += 1
                accepted[r.kind] += r.accepted
                currency = r.currency if r.amount is not None else None
                for money in (
                    by_kind[(r.kind, currency)],
                    by_department[(department, currency)],
                    by_label[(label, currency)],
                ):
                    money.complaints.add(reference)
                    money.offered += 1
                    money.accepted += r.accepted
                    if r.amount is not None:
                        money.offered_amount += r.amount
                        if r.accepted:
                            money.cost += r.amount

        def currency_text(currency: str | None) -> str:
            return currency if currency is not None else _NO_CURRENCY.get(lang)

        kinds = [k for k in RemedyKind if offered[k]]
        kind_column = Column("kind", Names("remedy", "补救方式"))
        kind_table = Table(
            "kinds",
            Names("Offered and accepted by kind", "按补救方式：提供与接受"),
            (
                kind_column,
                Column("offered", Names("offered", "提供"), "count"),
                Column("accepted", Names("accepted", "接受"), "count"),
                Column("acceptance", Names("acceptance rate", "接受率"), "share"),
            ),
            tuple(
                (name_of(k, lang), offered[k], accepted[k], share(accepted[k], offered[k]))
                for k in kinds
            ),
            Chart("bar", "kind", ("offered", "accepted")),
        )

        def money_table(
            key: str,
            names: Names,
            first: Column,
            groups: dict[tuple[str | None, str | None], _Money],
            show: Callable[[str | None], str],
        ) -> Table:
            order = sorted(
                groups,
                key=lambda k: (k[1] is None, k[1] or "", -groups[k].cost, k[0] is None, k[0] or ""),
            )
            rows = tuple(
                (show(k[0]), currency_text(k[1]), *groups[k].row(k[1] is not None)) for k in order
            )
            return Table(key, names, (first, _CURRENCY, *_MONEY), rows)

        amounts = money_table(
            "amounts",
            Names("Amounts by kind and currency", "按补救方式和币种的金额"),
            kind_column,
            {(k.value, c): m for (k, c), m in by_kind.items()},
            lambda v: name_of(RemedyKind(v), lang) if v is not None else NONE.get(lang),
        )
        departments = money_table(
            "department",
            Names("Cost by department", "按部门的补救成本"),
            Column("department", Names("department", "部门")),
            by_department,
            lambda v: v if v is not None else NONE.get(lang),
        )
        labels = money_table(
            "label",
            Names(f"Cost by {scheme.names.en.lower()}", f"按{scheme.names.zh}的补救成本"),
            Column(scheme_name, scheme.names),
            by_label,
            lambda v: label_names(scheme, v).get(lang),
        )
        total_offered = sum(offered.values())
        total_accepted = sum(accepted.values())
        figures = (
            (Names("complaints with remedies", "有补救的投诉"), with_remedies, "count"),
            (Names("remedies offered", "提供补救次数"), total_offered, "count"),
            (Names("remedies accepted", "接受补救次数"), total_accepted, "count"),
            (
                Names("acceptance rate", "接受率"),
                share(total_accepted, total_offered),
                "share",
            ),
        )
        return Report(
            self.name,
            self.names,
            figures,
            (kind_table, amounts, departments, labels),
            parameters={"scheme": scheme_name},
        )
