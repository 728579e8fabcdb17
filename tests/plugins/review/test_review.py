"""``complaintkit review``: the queue of labels due for review, and decisions recorded as
hand-set labels in the history (a real TinyDB store, the real CLI)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from complaintkit import Complaint, Label, make_host
from complaintkit.config import load_config
from complaintkit.testing import make_complaint
from complaintkit_cli.main import cli
from complaintkit_review import ReviewSettings, due_for_review

Run = Callable[..., Result]

EXAMPLES = Path(__file__).parents[3] / "examples" / "complaints.csv"


@pytest.fixture
def ck(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.chdir(tmp_path)
    for name in ("COMPLAINTKIT_STORE", "COMPLAINTKIT_LANG", "COMPLAINTKIT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def run(*args: str, code: int = 0, input: str | None = None) -> Result:
        result = runner.invoke(
            cli, ["--store", "tinydb://store.json", "--actor", "mei", *args], input=input
        )
        assert result.exit_code == code, result.output
        return result

    run("init")
    run("import", str(EXAMPLES))
    return run


def queue_of(ck: Run, *args: str) -> list[dict[str, object]]:
    return list(json.loads(ck("review", "--format", "json", *args).stdout))


def test_the_queue_holds_automatic_labels_below_the_threshold_least_confident_first(
    ck: Run,
) -> None:
    items = queue_of(ck, "--scheme", "cause")
    assert items, "the examples have uncertain causes"
    confidences = [float(item["confidence"]) for item in items]  # type: ignore[arg-type]
    assert all(c < 0.5 for c in confidences)
    assert confidences == sorted(confidences)
    assert {item["scheme"] for item in items} == {"cause"}
    assert all(item["classifier"] != "manual" for item in items)
    higher = queue_of(ck, "--scheme", "投诉原因", "--below", "0.9")  # the Chinese name works too
    assert len(higher) > len(items)


def test_thresholds_per_scheme_from_the_configuration(ck: Run, tmp_path: Path) -> None:
    default = queue_of(ck, "--scheme", "cause")
    (tmp_path / "complaintkit.toml").write_text(
        '[review]\nthreshold = 0.1\nthresholds = { "投诉原因" = 0.8 }\n', encoding="utf-8"
    )
    configured = queue_of(ck)
    schemes = {item["scheme"] for item in configured}
    assert schemes == {"cause"}  # every other scheme is held to 0.1, which none is below
    assert len(configured) > len(default)


def test_the_table_says_how_many_complaints_without_a_label_the_queue_leaves_out(
    ck: Run, tmp_path: Path
) -> None:
    ck("add", "--text", "zzz qqq")  # no rule says anything about this one
    missing = len(json.loads(ck("list", "--unclassified", "cause", "--format", "json").stdout))
    assert missing >= 1
    out = ck("review", "--scheme", "cause").output
    assert f"without a label, not in this queue: Cause {missing:,} " in out
    assert '(add them with [review] unlabelled = ["cause"])' in out
    assert "without a label" not in ck("review", "--scheme", "cause", "--format", "json").stdout
    (tmp_path / "complaintkit.toml").write_text(
        '[review]\nunlabelled = ["cause"]\n', encoding="utf-8"
    )
    assert "without a label" not in ck("review", "--scheme", "cause").output
    assert len(queue_of(ck, "--scheme", "cause", "--below", "0")) == missing  # now queued


def test_the_table_counts_the_whole_queue_by_scheme_name_also_when_limited(ck: Run) -> None:
    """Was `to review: cause 3` under `--limit 3`, and scheme keys in Chinese output."""
    whole = Counter(str(item["scheme"]) for item in queue_of(ck))
    assert sum(whole.values()) > 3
    total = ", ".join(
        f"{name} {whole[key]:,}"
        for key, name in sorted({"behaviour": "Behaviour", "cause": "Cause"}.items())
        if whole[key]
    )
    out = ck("review", "--scheme", "cause", "--scheme", "behaviour", "--limit", "3").stderr
    assert out.splitlines()[0] == f"to review: {total} (showing 3)"
    zh = ck("--lang", "zh", "review", "--scheme", "cause", "--limit", "3").stderr
    assert zh.splitlines()[0] == f"待复核: 投诉原因 {whole['cause']:,}（显示前 3 条）"
    unlimited = ck("review", "--scheme", "cause").stderr
    assert unlimited.splitlines()[0] == f"to review: Cause {whole['cause']:,}"


def test_bad_review_configuration_names_the_key(ck: Run, tmp_path: Path) -> None:
    (tmp_path / "complaintkit.toml").write_text("[review]\nthreshold = 2\n", encoding="utf-8")
    result = ck("review", code=2)
    assert "complaintkit.toml: review.threshold: must be a number from 0 to 1, got 2" in (
        result.output
    )
    (tmp_path / "complaintkit.toml").write_text("[review]\nthreshhold = 0.4\n", encoding="utf-8")
    result = ck("review", code=2)
    assert (
        "review: unknown setting(s) threshhold (did you mean threshold?); "
        "known: threshold, thresholds, unlabelled" in result.output
    )
    (tmp_path / "complaintkit.toml").write_text(
        '[review]\nthresholds = { cause = 1.5 }\nunlabelled = ["nosuch"]\n', encoding="utf-8"
    )
    result = ck("review", code=2)
    assert "review.thresholds.cause: must be a number from 0 to 1, got 1.5" in result.output
    (tmp_path / "complaintkit.toml").write_text(
        '[review]\nunlabelled = ["cause", "nosuch"]\n', encoding="utf-8"
    )
    result = ck("review", code=2)
    assert "review.unlabelled[2]: unknown classification scheme 'nosuch'" in result.output


def test_interactive_accept_and_correct_are_recorded_and_leave_the_queue(ck: Run) -> None:
    before = queue_of(ck, "--scheme", "cause")
    first, second = before[0], before[1]
    # accept the first proposal; correct the second to another label, by its Chinese name
    target, zh = ("integrity", "诚信") if second["label"] != "integrity" else ("price", "价格")
    result = ck(
        "review", "--scheme", "cause", "--interactive", "--note", "QA-7",
        input=f"a\nc\n{zh}\nq\n",
    )  # fmt: skip
    assert "accepted 1, corrected 1" in result.output
    after = {item["reference"] for item in queue_of(ck, "--scheme", "cause")}
    assert first["reference"] not in after and second["reference"] not in after
    shown = json.loads(ck("show", str(second["reference"]), "--format", "json").stdout)
    assert shown["labels"]["cause"]["label"] == target
    assert shown["labels"]["cause"]["classifier"] == "manual"
    last = shown["history"][-1]
    assert last["actor"] == "mei" and last["action"] == "classify"
    assert last["reason"].startswith(f"review: corrected from {second['label']}")
    assert last["reason"].endswith("; QA-7")
    accepted = json.loads(ck("show", str(first["reference"]), "--format", "json").stdout)
    assert accepted["labels"]["cause"]["label"] == first["label"]
    assert accepted["history"][-1]["reason"].startswith("review: accepted (schemes")


def test_interactive_names_the_labels_after_a_wrong_one_and_says_what_it_recorded(
    ck: Run,
) -> None:
    first = queue_of(ck, "--scheme", "cause")[0]
    result = ck("review", "--scheme", "cause", "--interactive", input="c\nservice\n2\nq\n")
    assert (
        "no such label: service; give 1–4 or a name: "
        "product_quality, service_quality, price, integrity"
    ) in result.output
    assert "→ recorded: Service quality (corrected)" in result.output
    shown = json.loads(ck("show", str(first["reference"]), "--format", "json").stdout)
    assert shown["labels"]["cause"]["label"] == "service_quality"


def test_interactive_in_chinese(ck: Run) -> None:
    answers = "c\n服务\n服务质量\nq\n"
    result = ck("--lang", "zh", "review", "--scheme", "cause", "--interactive", input=answers)
    assert "没有这个标签：服务；请输入 1–4 或名称" in result.output
    assert "→ 已记录: 服务质量 (" in result.output
    assert result.output.rstrip().endswith(("更正 1", "接受 1"))


def test_interactive_enter_at_the_label_prompt_skips(ck: Run) -> None:
    first = queue_of(ck, "--scheme", "cause")[0]
    result = ck("review", "--scheme", "cause", "--interactive", "--limit", "1", input="c\n\n")
    assert "skipped 1" in result.output
    assert first["reference"] in {i["reference"] for i in queue_of(ck, "--scheme", "cause")}


def test_interactive_input_ending_early_still_reports_what_was_recorded(ck: Run) -> None:
    result = ck("review", "--scheme", "cause", "--interactive", input="a\nc\n", code=1)
    assert "accepted 1" in result.output  # kept, and said, before click's "Aborted!"
    assert "Aborted!" in result.output


def test_decisions_from_a_file_keep_the_good_rows_and_name_the_bad(ck: Run, tmp_path: Path) -> None:
    items = queue_of(ck, "--scheme", "cause")
    good = items[0]
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(
        "reference,scheme,label,note\n"
        f"{good['reference']},cause,price,checked by phone\n"
        "NO-SUCH-REF,cause,price,\n"
        f"{good['reference']},cause,teleportation,\n"
        f"{good['reference']},,price,\n",
        encoding="utf-8",
    )
    result = ck("review", "--decisions", str(decisions), code=1)
    assert "applied: " in result.stdout
    assert f"{decisions}:3: field reference: no complaint 'NO-SUCH-REF'" in result.output
    assert f"{decisions}:4: field label:" in result.output and "teleportation" in result.output
    assert f"{decisions}:5: field scheme: missing" in result.output
    assert "3 row(s) of" in result.output and "the others were" in result.output
    shown = json.loads(ck("show", str(good["reference"]), "--format", "json").stdout)
    assert shown["labels"]["cause"] == {
        **shown["labels"]["cause"],
        "label": "price",
        "classifier": "manual",
    }
    assert shown["history"][-1]["reason"].endswith("; checked by phone")
    # The same decisions again: the good row is already decided, nothing is recorded twice.
    history = len(shown["history"])
    ck("review", "--decisions", str(decisions), code=1)
    again = json.loads(ck("show", str(good["reference"]), "--format", "json").stdout)
    assert len(again["history"]) == history


def test_decisions_as_json_lines_report_unreadable_lines(ck: Run, tmp_path: Path) -> None:
    ref = queue_of(ck, "--scheme", "cause")[0]["reference"]
    decisions = tmp_path / "decisions.jsonl"
    decisions.write_text(
        json.dumps({"reference": ref, "scheme": "投诉原因", "label": "服务质量"}) + "\n{oops\n",
        encoding="utf-8",
    )
    result = ck("review", "--decisions", str(decisions), code=1)
    assert "corrected 1" in result.stdout or "accepted 1" in result.stdout
    assert f"{decisions}:2: not JSON" in result.output


def test_untrusted_text_is_inert_in_the_table(ck: Run) -> None:
    ck("add", "--text", "Refund \x1b[2Jplease\x07 I was charged twice =HYPERLINK(1)")
    out = ck("review", "--below", "1").stdout
    assert "\x1b" not in out and "\x07" not in out


def test_hand_set_labels_and_abstentions(tmp_path: Path) -> None:
    host = make_host(load_config(None, store=f"tinydb://{tmp_path / 's.json'}"), env={})
    settings = ReviewSettings.from_config(
        load_config(None, store=f"tinydb://{tmp_path / 's.json'}"), host
    )
    unsure = Label("cause", "price", 0.2, ("fee",), "schemes")
    manual = Label("cause", "price", 0.2, (), "manual")
    complaints: list[Complaint] = [
        make_complaint("A", labels={"cause": unsure}),
        make_complaint("B", labels={"cause": manual}),
        make_complaint("C"),
    ]
    due = [
        (i.complaint.reference, i.label) for i in due_for_review(complaints, ["cause"], settings)
    ]
    assert due == [("A", unsure)]  # a person's label is never due; an abstention only if asked
    asking = ReviewSettings(unlabelled=frozenset({"cause"}))
    due = [i.complaint.reference for i in due_for_review(complaints, ["cause"], asking)]
    assert due == ["A", "C"]


def test_the_table_shows_the_least_confident_fifty_and_says_how_many_are_due(ck: Run) -> None:
    every = queue_of(ck, "--below", "1")
    assert len(every) > 50
    assert queue_of(ck, "--below", "1", "--limit", "3") == every[:3]
    table = ck("review", "--below", "1")
    assert table.stderr.splitlines()[0].endswith(" (showing 50)")
    due = Counter(str(item["scheme"]) for item in every)
    assert f"Cause {due['cause']:,}" in table.stderr  # the whole queue is counted
    assert str(every[49]["reference"]) in table.stdout
    whole = ck("review", "--below", "1", "--limit", "0")
    assert "showing" not in whole.output
    assert all(str(item["reference"]) in whole.stdout for item in every)
    zh = ck("--lang", "zh", "review", "--below", "1").stderr
    assert zh.splitlines()[0].endswith("（显示前 50 条）")


def test_the_queue_reads_only_the_complaints_it_shows(ck: Run, tmp_path: Path) -> None:
    from complaintkit import Desk
    from complaintkit_review.queue import review_records
    from complaintkit_tinydb.store import TinyDBStore

    every = queue_of(ck, "--below", "1")
    host = make_host(load_config(None, store=f"tinydb://{tmp_path / 'store.json'}"), env={})
    store = host.open_store()
    assert isinstance(store, TinyDBStore)
    desk = Desk(host, store, actor="mei")
    assert review_records(desk, [], 1.0, False, 5) == every[:5]
    assert store.storage.parses == 0  # selected on the index, five complaints read whole
    store.close()


def test_a_store_without_label_summaries_gives_the_same_queue(ck: Run, tmp_path: Path) -> None:
    # SQLite answers through find (complaints read once, those due kept); TinyDB from its
    # index. The same complaints, so the same queue, page and counts.
    runner = CliRunner()

    def sql(*args: str) -> Result:
        result = runner.invoke(cli, ["--store", f"sqlite:///{tmp_path / 's.db'}", *args])
        assert result.exit_code == 0, result.output
        return result

    sql("init")
    sql("import", str(EXAMPLES))
    for args in (("--below", "1"), ("--scheme", "cause"), ("--below", "0.6", "--limit", "7")):
        from_sql = json.loads(sql("review", "--format", "json", *args).stdout)
        assert from_sql == queue_of(ck, *args), args
    assert len(json.loads(sql("review", "--format", "json", "--below", "1").stdout)) > 50
    table = sql("review", "--below", "1").output
    assert table.splitlines()[-1] == ck("review", "--below", "1").output.splitlines()[-1]
