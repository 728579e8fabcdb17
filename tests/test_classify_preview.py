"""``classify --dry-run``: what a rule change would change, before anything is written
(a real TinyDB store through the CLI, and the desk's preview itself)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from complaintkit import Desk
from complaintkit.testing import make_complaint
from complaintkit_cli.main import cli

EXAMPLES = Path(__file__).parents[1] / "examples" / "complaints.csv"

EXTRA_RULES = """
name = "cause"

[[labels]]
name = "integrity"
keywords = [
  {phrase = "不透明", weight = 5}, {phrase = "annual fee", weight = 5},
  {phrase = "陌生交易", weight = 5},
]
"""


def run(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, ["--store", "tinydb://store.json", *args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def store_with_examples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("COMPLAINTKIT_STORE", "COMPLAINTKIT_LANG", "COMPLAINTKIT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    run("init")
    run("import", str(EXAMPLES))
    (tmp_path / "extra.toml").write_text(EXTRA_RULES, encoding="utf-8")
    return tmp_path


def test_a_rule_change_is_previewed_and_nothing_is_written(store_with_examples: Path) -> None:
    before = (store_with_examples / "store.json").read_bytes()
    unchanged = json.loads(run("classify", "--all", "--dry-run", "--format", "json").stdout)
    assert unchanged["examined"] == 60 and unchanged["changed"] == 0 and not unchanged["moves"]
    assert unchanged["updated"] == 0
    (store_with_examples / "complaintkit.toml").write_text(
        '[[classification.rules]]\nfile = "extra.toml"\nmode = "extend"\n', encoding="utf-8"
    )
    preview = json.loads(run("classify", "--all", "--dry-run", "--format", "json").stdout)
    assert 1 <= preview["changed"] <= preview["updated"]
    moves = {(m["scheme"], m["from"], m["to"]): m for m in preview["moves"]}
    assert ("cause", "price", "integrity") in moves
    move = moves["cause", "price", "integrity"]
    assert move["complaints"] == len(move["examples"]) or len(move["examples"]) == 3
    counts = {(x["scheme"], x["label"]): (x["before"], x["after"]) for x in preview["labels"]}
    old, new = counts["cause", "integrity"]
    assert new - old == sum(m["complaints"] for k, m in moves.items() if k[2] == "integrity") - sum(
        m["complaints"] for k, m in moves.items() if k[1] == "integrity"
    )
    assert (store_with_examples / "store.json").read_bytes() == before  # nothing written
    table = run("classify", "--all", "--dry-run", "--scheme", "cause").stdout
    assert "labels would change on" in table and "nothing written" in table
    assert "Integrity" in table and move["examples"][0] in table
    zh = run("--lang", "zh", "classify", "--all", "--dry-run", "--scheme", "cause").stdout
    assert "未写入" in zh and "诚信" in zh
    # The real pass then makes exactly the previewed change.
    done = run("classify", "--all", "--scheme", "cause").stdout
    # the real pass says it rewrote what the dry run said would be rewritten
    assert f"rewrote {preview['updated']:,} (confidence or evidence refreshed included" in done
    again = run("--lang", "zh", "classify", "--all", "--scheme", "cause").stdout
    assert "重写 0 条" in again  # the same rules again: nothing to rewrite
    counts = json.loads(run("classify", "--all", "--scheme", "cause", "--format", "json").stdout)
    assert counts == {"examined": preview["examined"], "rewritten": 0}
    one = move["examples"][0]
    named = json.loads(run("classify", one, "--format", "json").stdout)
    assert named[0]["reference"] == one and named[0]["labels"]["cause"] == "integrity"
    listed = run("list", "--label", "cause=integrity", "--format", "json").stdout
    assert len(json.loads(listed)) == new


def test_named_complaints_and_usage(store_with_examples: Path) -> None:
    (store_with_examples / "complaintkit.toml").write_text(
        '[[classification.rules]]\nfile = "extra.toml"\nmode = "extend"\n', encoding="utf-8"
    )
    preview = json.loads(
        run("classify", "EX-0008", "EX-0001", "--dry-run", "--format", "json").stdout
    )
    assert preview["examined"] == 2
    assert run("classify", "--dry-run", code=2).exit_code == 2


def test_hand_set_labels_stay_unless_forced(ck_desk: Desk) -> None:
    ck_desk.intake(make_complaint("P-1", text="The annual fee doubled without notice"))
    ck_desk.label("P-1", "cause", "service_quality", reason="checked by phone")
    kept = ck_desk.preview_classification(schemes=["cause"])
    assert kept.changed == 0 and kept.after == kept.before
    forced = ck_desk.preview_classification(schemes=["cause"], force=True)
    assert forced.changed == 1
    ((scheme, old, new),) = forced.moves
    assert (scheme, old) == ("cause", "service_quality") and new != "service_quality"
    assert forced.examples[scheme, old, new] == ("P-1",)
    assert ck_desk.get("P-1").labels["cause"].label == "service_quality"  # still not written
