"""The command line end to end, through click's runner, on a real TinyDB file."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from complaintkit_cli.main import cli

REPO = Path(__file__).parents[1]
EXAMPLES = REPO / "examples" / "complaints.csv"

Run = Callable[..., Result]


@pytest.fixture
def ck(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run complaintkit against a store in tmp_path (made with init), from tmp_path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COMPLAINTKIT_STORE", raising=False)
    monkeypatch.delenv("COMPLAINTKIT_LANG", raising=False)
    runner = CliRunner()

    def run(*args: str, ok: bool = True, input: str | None = None) -> Result:
        result = runner.invoke(cli, ["--store", "tinydb://store.json", *args], input=input)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    run("init")
    return run


def add(ck: Run, text: str, *extra: str) -> str:
    out = ck("add", "--text", text, *extra).stdout
    return out.split()[0]


def test_init_creates_the_store_and_names_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = CliRunner().invoke(cli, ["--store", "tinydb://data/new.json", "init"])
    assert first.exit_code == 0, first.output
    path = tmp_path / "data" / "new.json"
    assert first.stdout == f"store ready: tinydb://{path} (0 complaints, created now)\n"
    assert path.exists()
    again = CliRunner().invoke(cli, ["--store", "tinydb://data/new.json", "init"])
    assert again.stdout == f"store ready: tinydb://{path} (0 complaints, existed already)\n"


def test_init_write_config_then_commands_use_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    made = runner.invoke(
        cli,
        ["--store", "tinydb://cfg.json", "init", "--write-config", "--timezone", "Asia/Shanghai"],
    )
    assert made.exit_code == 0, made.output
    config = (tmp_path / "complaintkit.toml").read_text()
    assert "Asia/Shanghai" in config and "cfg.json" in config
    added = runner.invoke(cli, ["add", "--text", "送货太慢", "--received-at", "2026-10-01 09:00"])
    assert added.exit_code == 0, added.output
    shown = runner.invoke(cli, ["show", added.stdout.split()[0], "--format", "json"])
    assert json.loads(shown.stdout)["received_at"] == "2026-10-01T09:00:00+08:00"


def test_add_show_with_labels_and_history(ck: Run) -> None:
    ref = add(
        ck,
        "The courier was rude and the parcel arrived broken",
        "--channel",
        "email",
        "--name",
        "Ann Lee",
        "--order",
        "SO-1",
        "--field",
        "store=Leeds",
    )
    assert ref.startswith("CK-")
    shown = ck("show", ref).stdout
    # The name is personal data: masked unless asked for in full (docs/privacy.md).
    assert "A** L**" in shown and "Ann Lee" not in shown
    assert "SO-1" in shown and "Leeds" in shown
    assert "Ann Lee" in ck("show", ref, "--unmasked", "--reason", "test").stdout
    assert "received" in shown and "classify" in shown
    assert "next actions: acknowledge, assess, withdraw, reject" in shown
    data = json.loads(ck("show", ref, "--format", "json").stdout)
    assert data["channel"] == "email" and data["custom"] == {"store": "Leeds"}
    assert set(data["labels"]) >= {"severity", "cause", "behaviour", "purpose"}


def test_show_gives_a_label_change_in_the_history_as_from_arrow_to(ck: Run) -> None:
    """Was `cause=from:None,to:price,confidence:0.63,evidence:['overcharged']`: the classify
    event also keeps confidence and evidence, which the labels table above it shows."""
    ref = add(ck, "I was overcharged on my bill", "--reference", "CK-T-2")
    ck("label", ref, "cause", "integrity", "--reason", "checked the contract")
    history = ck("show", ref).stdout.split("details", 1)[1]
    classify = [line for line in history.splitlines() if "  classify  " in line]
    assert len(classify) == 2, history
    assert "cause=None→price" in classify[0] and "severity=None→general" in classify[0]
    assert "cause=price→integrity" in classify[1]
    assert "confidence" not in history and "from:" not in history and "[" not in history


def test_lifecycle_through_the_cli(ck: Run) -> None:
    ref = add(ck, "I was overcharged on my bill", "--reference", "CK-T-1")
    for args in (
        ["acknowledge"],
        ["assess"],
        ["investigate"],
        ["propose", "--solution", "refund the overcharge"],
        ["accept"],
        ["implement"],
        ["resolve"],
        ["close", "--satisfaction", "5"],
    ):
        ck("transition", ref, *args)
    data = json.loads(ck("show", ref, "--format", "json").stdout)
    assert data["status"] == "closed" and data["satisfaction"] == 5
    reopened = ck("transition", ref, "reopen", "--reason", "charged again").stdout
    assert "reopened" in reopened and "department" in reopened


def test_actions_by_their_chinese_names(ck: Run) -> None:
    """Was: `transition REF 受理` refused, and `--lang zh show` listed the English keys."""
    ref = add(ck, "快递延误三天", "--reference", "CK-T-3")
    assert "受理 (acknowledge), 评估 (assess)" in ck("--lang", "zh", "show", ref).stdout
    ck("transition", ref, "受理")
    ck("transition", ref, " 评估 ")
    data = json.loads(ck("show", ref, "--format", "json").stdout)
    assert data["status"] == "assessed"
    assert [e["action"] for e in data["history"]][-2:] == ["acknowledge", "assess"]
    assert "acknowledge (受理)" in ck("transition", "--help").stdout
    refused = ck("transition", ref, "受理了", ok=False)
    assert refused.exit_code == 1 and "unknown action '受理了'" in refused.stderr


def test_illegal_transition_is_a_clean_error(ck: Run) -> None:
    ref = add(ck, "Phone broke")
    result = ck("transition", ref, "implement", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot implement complaint")
    assert "Traceback" not in result.output


def test_unknown_reference_is_a_clean_error(ck: Run) -> None:
    result = ck("show", "NOPE", ok=False)
    assert result.exit_code == 1
    assert "Error: no complaint with reference 'NOPE'" in result.stderr


def test_assign_escalate_and_filters(ck: Run) -> None:
    first = add(ck, "Rude staff at the counter", "--channel", "in_person")
    second = add(ck, "Hidden fees on my account", "--channel", "web")
    ck("assign", first, "--department", "customer-service", "--assignee", "li.na")
    ck("escalate", first, "--reason", "customer called three times")
    by_dept = json.loads(ck("list", "--department", "customer-service", "--format", "json").stdout)
    assert [c["reference"] for c in by_dept] == [first]
    escalated = json.loads(ck("list", "--min-level", "department", "--format", "json").stdout)
    assert [c["reference"] for c in escalated] == [first]
    price = json.loads(ck("list", "--label", "cause=price", "--format", "json").stdout)
    assert [c["reference"] for c in price] == [second]
    web = ck("list", "--channel", "web", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(web)))
    assert [r["reference"] for r in rows] == [second]
    assert rows[0]["label:cause"] == "price"


def test_list_table_in_chinese(ck: Run) -> None:
    add(ck, "服务员态度很差", "--channel", "wechat")
    out = ck("--lang", "zh", "list").stdout
    assert "编号" in out and "微信" in out and "服务质量" in out
    assert "显示 1 / 共 1 条投诉" in out


def test_import_examples_then_summary(ck: Run) -> None:
    result = ck("import", str(EXAMPLES))
    imported = int(result.stdout.split("imported ")[1].split()[0].rstrip(","))
    assert imported >= 50
    again = ck("import", str(EXAMPLES)).stdout
    assert "imported 0" in again and f"skipped {imported} already in the store" in again
    report = json.loads(ck("report", "summary", "--format", "json").stdout)
    figures = {f["name"]: f["value"] for f in report["figures"]}
    assert figures["complaints"] == imported
    tables = {t["key"]: t for t in report["tables"]}
    assert sum(row[1] for row in tables["status"]["rows"]) == imported
    cause_rows = {row[0]: row[1] for row in tables["label:cause"]["rows"]}
    assert {"Product quality", "Service quality", "Price", "Integrity"} <= set(cause_rows)
    zh = ck("--lang", "zh", "report")
    assert "投诉汇总" in zh.stdout and "产品质量" in zh.stdout


def test_import_reports_bad_rows_and_keeps_good_ones(ck: Run, tmp_path: Path) -> None:
    bad = tmp_path / "mixed.csv"
    bad.write_text(
        "reference,received_at,channel,text\n"
        "G-1,2026-10-01,phone,Delivery late\n"
        "B-1,not a date,phone,Broken screen\n"
        'G-2,2026-10-02,web,"Overcharged,\nand rude"\n'
        "B-2,2026-10-03,carrier pigeon,Lost parcel\n"
        "B-3,2026-10-04,email,\n",
        encoding="utf-8",
    )
    result = ck("import", str(bad), ok=False)
    assert result.exit_code == 1
    assert "imported 2" in result.stdout and "rejected 3" in result.stdout
    assert "line 3" in result.stderr and "received_at" in result.stderr
    assert "line 6" in result.stderr and "channel" in result.stderr
    assert "line 7" in result.stderr and "text" in result.stderr
    rejects = [json.loads(line) for line in (tmp_path / "mixed.csv.rejects.jsonl").open()]
    assert [r["raw"]["reference"] for r in rejects] == ["B-1", "B-2", "B-3"]
    listed = json.loads(ck("list", "--format", "json").stdout)
    assert sorted(c["reference"] for c in listed) == ["G-1", "G-2"]


def test_classify_all_unclassified(ck: Run, tmp_path: Path) -> None:
    ck("import", str(EXAMPLES), "--no-classify")
    before = json.loads(ck("list", "--unclassified", "cause", "--format", "json").stdout)
    assert before
    out = ck("classify", "--all", "--unclassified", "cause").stdout
    assert f"examined {len(before)}" in out
    after = json.loads(ck("list", "--unclassified", "cause", "--format", "json").stdout)
    assert after == []


def test_schemes_lists_bilingual_labels(ck: Run) -> None:
    data = json.loads(ck("schemes", "--format", "json").stdout)
    cause = next(s for s in data if s["name"] == "cause")
    assert cause["zh"] == "投诉原因"
    assert {"name": "price", "en": "Price", "zh": "价格"}.items() <= next(
        lb for lb in cause["labels"] if lb["name"] == "price"
    ).items()


def test_report_csv_and_out_file(ck: Run, tmp_path: Path) -> None:
    add(ck, "Rude staff")
    ck("report", "--format", "csv", "--out", "summary.csv")
    rows = list(csv.DictReader((tmp_path / "summary.csv").open(encoding="utf-8")))
    status = [r for r in rows if r["table"] == "status"]
    assert status == [{"table": "status", "item": "received", "count": "1", "share": "1.0"}]
    listing = ck("report", "--list").stdout
    assert "summary" in listing


def test_help_stays_light() -> None:
    # --help lists the plugins' commands, so it loads the plugins (their modules are cheap to
    # import); the libraries behind stores, classification, templates and spreadsheets wait.
    code = (
        "import sys; from complaintkit_cli.main import cli\n"
        "try:\n    cli(['--help'], prog_name='complaintkit')\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('cattrs', 'tinydb', 'ahocorasick', 'orjson', 'openpyxl',"
        " 'sqlalchemy', 'jinja2', 'complaintkit.desk') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "HEAVY []" in out
    assert "import" in out and "report" in out


@pytest.mark.parametrize(("scheme", "name"), [("tinydb", "store.json"), ("sqlite", "store.db")])
def test_list_and_show_read_no_rule_file_and_build_no_converter(
    tmp_path: Path, scheme: str, name: str
) -> None:
    # Reading commands show labels by name: the schemes' rules (parsed TOML, an automaton),
    # the configuration converter (cattrs, for absent sections; the TinyDB store reads its
    # documents with cattrs) and other databases' dialects are for commands that classify,
    # configure or use those databases; a SQL store reads them without SQLAlchemy at all
    # (complaintkit_sql.light).
    runner = CliRunner()
    env = {"COMPLAINTKIT_CONFIG": None, "COMPLAINTKIT_STORE": None}
    store = f"{scheme}://{tmp_path}/{name}"
    for args in (["init"], ["add", "--text", "Rude staff; call me on 13800138000"]):
        done = runner.invoke(cli, ["--store", store, *args], env=env)
        assert done.exit_code == 0, done.output
    reference = done.stdout.split()[0]
    code = (
        "import sys\nfrom complaintkit_cli.main import cli\n"
        "try:\n    cli(sys.argv[1:], prog_name='complaintkit')\nexcept SystemExit:\n    pass\n"
        "from complaintkit_schemes.plugin import builtin_rule_set\n"
        "heavy = [m for m in ('cattrs', 'ahocorasick', 'sqlalchemy') if m in sys.modules]\n"
        "print('HEAVY', heavy, builtin_rule_set.cache_info().misses)\n"
    )
    for command in (["list"], ["show", reference]):
        out = subprocess.run(
            [sys.executable, "-c", code, "--store", store, *command],
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
            env={k: v for k, v in os.environ.items() if not k.startswith("COMPLAINTKIT_")},
        ).stdout
        assert reference in out and "138****8000" in out, out
        assert ("HEAVY ['cattrs'] 0" if scheme == "tinydb" else "HEAVY [] 0") in out, out


def test_reports_on_sqlite_import_no_sqlalchemy(tmp_path: Path) -> None:
    # The reports' reads (counts, facts) run on the light path: the statements SQLAlchemy
    # would build are kept as text (complaintkit_sql.facts_texts).
    runner = CliRunner()
    env = {"COMPLAINTKIT_CONFIG": None, "COMPLAINTKIT_STORE": None}
    store = f"sqlite://{tmp_path}/store.db"
    for args in (
        ["init"],
        ["add", "--text", "Rude staff at the counter"],
        ["add", "--text", "The parcel arrived broken", "--channel", "phone"],
    ):
        done = runner.invoke(cli, ["--store", store, *args], env=env)
        assert done.exit_code == 0, done.output
    code = (
        "import sys\nfrom complaintkit_cli.main import cli\n"
        "try:\n    cli(sys.argv[1:], prog_name='complaintkit')\nexcept SystemExit:\n    pass\n"
        "print('SQLALCHEMY', 'sqlalchemy' in sys.modules)\n"
    )
    for report, shown in (("summary", "phone             1"), ("kpis", "complaints: 2")):
        out = subprocess.run(
            [sys.executable, "-c", code, "--store", store, "report", report],
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
            env={k: v for k, v in os.environ.items() if not k.startswith("COMPLAINTKIT_")},
        )
        assert shown in out.stdout and "SQLALCHEMY False" in out.stdout, out


def test_help_lists_plugin_commands_without_other_options() -> None:
    result = CliRunner().invoke(cli, ["--help"], env={"COMPLAINTKIT_CONFIG": None})
    assert result.exit_code == 0, result.output
    commands = result.stdout.partition("Commands:")[2]
    # outbox and notify come from the notify plugin, not from the command line's own list
    assert "\n  outbox " in commands and "\n  notify " in commands


def test_json_export_reimports_with_labels_status_and_history(ck: Run, tmp_path: Path) -> None:
    ref = add(ck, "The fee doubled without notice", "--name", "Ann")
    ck("transition", ref, "acknowledge")
    exported = tmp_path / "export.jsonl"
    exported.write_text(ck("list", "--format", "jsonl").stdout, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--store", "tinydb://copy.json", "--create", "import", str(exported)]
    )
    assert result.exit_code == 0, result.output
    original = json.loads(ck("show", ref, "--format", "json").stdout)
    copied = json.loads(
        runner.invoke(
            cli, ["--store", "tinydb://copy.json", "show", ref, "--format", "json"]
        ).stdout
    )
    assert copied["custom"] == {}
    for key in ("status", "labels", "history", "complainant"):
        assert copied[key] == original[key]


def test_malformed_json_document_is_rejected_by_field(ck: Run, tmp_path: Path) -> None:
    bad = tmp_path / "docs.jsonl"
    good = {
        "reference": "J-1",
        "received_at": "2026-10-01T09:00:00+08:00",
        "text": "late",
        "complainant": {"name": "Li"},
    }
    wrong = {
        **good,
        "reference": "J-2",
        "complainant": {"name": "Wu", "emial": "x@y"},
        "status": "lost",
    }
    bad.write_text(json.dumps(good) + "\n" + json.dumps(wrong) + "\n", encoding="utf-8")
    result = ck("import", str(bad), ok=False)
    assert "imported 1" in result.stdout and "rejected 1" in result.stdout
    assert "docs.jsonl, line 2" in result.stderr
    assert "complainant" in result.stderr and "emial" in result.stderr
    assert "'lost' is not a valid Status" in result.stderr


def test_filter_with_unknown_label_is_an_error_not_an_empty_list(ck: Run) -> None:
    add(ck, "Hidden fees")
    typo = ck("list", "--label", "cause=prize", ok=False)
    assert typo.exit_code == 2
    assert "scheme 'cause' has no label 'prize'; labels: product_quality" in typo.output
    scheme = ck("list", "--unclassified", "caus", ok=False)
    assert "unknown classification scheme 'caus'" in scheme.output


def test_dry_run_counts_what_is_already_stored(ck: Run) -> None:
    ck("import", str(EXAMPLES))
    dry = ck("import", str(EXAMPLES), "--dry-run").stdout
    assert "0 would be imported (dry run: nothing stored)" in dry
    assert "60 already in the store" in dry


def test_import_summary_speaks_chinese_under_lang_zh(ck: Run, tmp_path: Path) -> None:
    """Was English under --lang zh, while the history line after it was Chinese."""
    bad_rows = REPO / "examples" / "bad_rows.csv"
    dry = ck("--lang", "zh", "import", str(bad_rows), "--dry-run", ok=False)
    rejects = tmp_path / "bad_rows.csv.rejects.jsonl"
    assert dry.exit_code == 1
    assert dry.stdout.strip() == (
        "从 bad_rows.csv 读取 13 条记录，可导入 4 条（试运行：未存储），"
        f"跳过与文件中前面某行相同的 1 条，拒绝 8 条（已保存到 {rejects}）"
    )
    ck("import", str(bad_rows), ok=False)
    again = ck("--lang", "zh", "import", str(bad_rows), ok=False).stdout
    assert again.startswith("从 bad_rows.csv 读取 13 条记录，导入 0 条，跳过已在库中的 4 条，")
    english = ck("import", str(bad_rows), "--dry-run", ok=False).stdout
    assert english.startswith(
        "read 13 records from bad_rows.csv, 0 would be imported (dry run: nothing stored), "
        "4 already in the store, skipped 1 repeating an earlier line of the file, rejected 8"
    )


def test_map_adjusts_a_detected_preset(ck: Run, tmp_path: Path) -> None:
    export = tmp_path / "cfpb.csv"
    export.write_text(
        "complaint_id,date_received,product,issue,consumer_complaint_narrative,submitted_via,"
        "company_response_to_consumer\n"
        "101,2024-05-01,Mortgage,Trouble during payment process,,Web,In progress\n",
        encoding="utf-8",
    )
    result = ck("import", str(export), "--map", "title=product")
    assert "imported 1" in result.stdout
    shown = json.loads(ck("show", "CFPB-101", "--format", "json").stdout)
    assert shown["title"] == "Mortgage"


def test_stale_rejects_file_is_removed_when_a_rerun_is_clean(ck: Run, tmp_path: Path) -> None:
    data = tmp_path / "fix.csv"
    data.write_text("reference,received_at,text\nR-1,yesterday,Late\n", encoding="utf-8")
    ck("import", str(data), ok=False)
    rejects = tmp_path / "fix.csv.rejects.jsonl"
    assert rejects.exists()
    data.write_text("reference,received_at,text\nR-1,2026-10-01,Late\n", encoding="utf-8")
    ck("import", str(data))
    assert not rejects.exists()


def test_rule_file_mistake_stops_the_command(ck: Run, tmp_path: Path) -> None:
    (tmp_path / "complaintkit.toml").write_text(
        '[[classification.rules]]\nfile = "rules/nope.toml"\n', encoding="utf-8"
    )
    result = ck("add", "--text", "late delivery", ok=False)
    assert result.exit_code == 2
    assert "nope.toml" in result.stderr and "does not exist" in result.stderr


def test_cli_choice_lists_match_the_model() -> None:
    # The lists are literal so that --help never imports the model; they must not drift.
    from complaintkit import Channel, EscalationLevel, RemedyKind, Status
    from complaintkit_cli import options

    assert [s.value for s in Status] == options.STATUS_CHOICES
    assert [c.value for c in Channel] == options.CHANNEL_CHOICES
    assert [level.slug for level in EscalationLevel] == options.LEVEL_CHOICES
    assert [k.value for k in RemedyKind] == options.REMEDY_CHOICES


def test_list_counts_with_thousands_separators(ck: Run, tmp_path: Path) -> None:
    """Over a real-sized store the footer reads "3 of 1,200 complaints", like the reports."""
    csv = tmp_path / "many.csv"
    rows = [f"M-{i:04d},2025-10-{1 + i % 28:02d} 09:00,包裹丢了 {i},phone" for i in range(1200)]
    csv.write_text("reference,received_at,text,channel\n" + "\n".join(rows) + "\n", "utf-8")
    ck("import", str(csv), "--no-classify")
    assert ck("list", "--limit", "3").stdout.splitlines()[-1] == "3 of 1,200 complaints"
    zh = ck("--lang", "zh", "list", "--limit", "3").stdout.splitlines()[-1]
    assert zh == "显示 3 / 共 1,200 条投诉"
