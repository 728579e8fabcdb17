"""The facts statements kept as text for the light path (complaintkit_sql.facts_texts) are
exactly what complaintkit_sql.facts_query compiles today: they can never drift apart."""

from __future__ import annotations

import subprocess
import sys

from complaintkit_sql import facts_texts

from .generate_facts_texts import FILTER, SCHEME, compiled_texts


def test_the_kept_statements_are_those_compiled_today() -> None:
    compiled = compiled_texts()
    assert facts_texts.FILTER == FILTER and facts_texts.SCHEME == SCHEME
    assert set(facts_texts.SQLITE) == set(compiled), (
        "the reports' plans changed: run tests/plugins/sql/generate_facts_texts.py"
    )
    for plan, text in compiled.items():
        assert facts_texts.SQLITE[plan] == text, (
            f"{plan} drifted: run tests/plugins/sql/generate_facts_texts.py"
        )
    # every filtered statement has the filter's place, and a scheme's for each label
    for (_, _, schemes, filtered), text in compiled.items():
        assert (FILTER in text) == filtered
        assert all(f"'{SCHEME}{i}'" in text for i in range(schemes))


def test_reading_facts_imports_no_sqlalchemy() -> None:
    code = (
        "import sys\n"
        "import complaintkit_sql.light, complaintkit_sql.facts_rows, complaintkit_sql.facts_texts\n"
        "print('sqlalchemy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out
