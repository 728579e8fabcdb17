"""``complaintkit report --format/--out``: every registered format, the format taken from the
file's ending, refusals checked before the reporter runs (exit 2), binary output never to a
terminal, and --out written atomically."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result

from complaintkit_cli.main import cli
from terminal_support import on_a_terminal

REPO = Path(__file__).parent.parent
EXAMPLES = REPO / "examples" / "complaints.csv"
SPY = """
from pathlib import Path
from complaintkit import Names, Report, hookimpl


class Spy:
    name = "spy"
    names = Names("Spy", "探针")
    description = "records that it ran"

    def run(self, store, flt, context):
        Path({marker!r}).write_text("ran")
        return Report(self.name, self.names, ((Names("n", "数"), store.count(flt), "count"),))


class Broken:
    name = "broken"
    names = Names("Broken", "坏格式")
    extensions = (".broken",)
    binary = False
    description = "fails half-way"

    def render(self, report, lang):
        raise RuntimeError("the renderer failed half-way")


@hookimpl
def register_reporters(register):
    register(Spy())


@hookimpl
def register_report_formats(register):
    register(Broken())
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's example complaints, imported once."""
    path = tmp_path_factory.mktemp("store") / "store.json"
    result = CliRunner().invoke(
        cli, ["--store", f"tinydb://{path}", "--create", "import", str(EXAMPLES)]
    )
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def plugins(tmp_path: Path) -> Path:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "spy.py").write_text(SPY.format(marker=str(tmp_path / "ran")), encoding="utf-8")
    return folder


def ck(store: Path, cwd: Path, *args: str, code: int = 0) -> Result:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, ["--store", f"tinydb://{store}", *args])
    finally:
        os.chdir(old)
    assert result.exit_code == code, result.output
    return result


def check_file(path: Path, fmt: str) -> None:
    """The file holds the summary report in ``fmt``."""
    data = path.read_bytes()
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(data))
        assert book.worksheets[0]["A1"].value == "Complaint summary"
        assert book["By status"]["B2"].value == 60
        return
    text = data.decode("utf-8")
    assert text.endswith("\n")
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert sum(int(r["count"]) for r in rows if r["table"] == "status") == 60
    elif fmt == "json":
        assert json.loads(text)["figures"][0] == {
            "name": "complaints",
            "en": "complaints",
            "value": 60,
            "kind": "count",
        }
    elif fmt == "markdown":
        assert text.startswith("# Complaint summary\n") and "| ---: |" in text
    elif fmt == "html":
        assert text.startswith("<!DOCTYPE html>") and "<svg" in text
    else:
        assert text.startswith("Complaint summary\n=================\n")


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "markdown", "html"])
def test_each_text_format_to_standard_output(store: Path, tmp_path: Path, fmt: str) -> None:
    result = ck(store, tmp_path, "report", "summary", "--format", fmt)
    out = tmp_path / "captured"
    out.write_text(result.stdout, encoding="utf-8")
    check_file(out, fmt)


def test_xlsx_to_a_pipe_is_the_workbook(store: Path, tmp_path: Path) -> None:
    result = ck(store, tmp_path, "report", "--format", "xlsx")
    assert result.stdout_bytes[:2] == b"PK"
    out = tmp_path / "piped.xlsx"
    out.write_bytes(result.stdout_bytes)
    check_file(out, "xlsx")


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("s.csv", "csv"),
        ("s.json", "json"),
        ("s.md", "markdown"),
        ("s.markdown", "markdown"),
        ("s.xlsx", "xlsx"),
        ("s.html", "html"),
        ("S.HTM", "html"),
        ("s.txt", "table"),
    ],
)
def test_the_out_file_ending_chooses_the_format(
    store: Path, tmp_path: Path, name: str, fmt: str
) -> None:
    result = ck(store, tmp_path, "report", "--out", name)
    assert f"wrote {name}" in result.stderr and result.stdout == ""
    check_file(tmp_path / name, fmt)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary file left


def test_format_wins_over_the_ending(store: Path, tmp_path: Path) -> None:
    ck(store, tmp_path, "report", "--format", "json", "--out", "summary.html")
    check_file(tmp_path / "summary.html", "json")


def test_chinese_html(store: Path, tmp_path: Path) -> None:
    ck(store, tmp_path, "--lang", "zh", "report", "--out", "汇总.html")
    page = (tmp_path / "汇总.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "<h1>投诉汇总</h1>" in page and "按状态" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "pdf"], "unknown report format 'pdf'; available: table, csv, csv-raw, json"),
        (["--out", "spy.pdf"], "cannot tell the report format from 'spy.pdf'"),
        (["--out", "no-ending"], "cannot tell the report format from 'no-ending'"),
    ],
)
def test_a_bad_format_is_a_usage_error_before_the_report_runs(
    store: Path, tmp_path: Path, plugins: Path, args: list[str], message: str
) -> None:
    result = ck(store, tmp_path, "--plugins-dir", str(plugins), "report", "spy", *args, code=2)
    assert message in result.stderr
    assert not (tmp_path / "ran").exists()
    assert not any(p.name.startswith(("spy", "no-ending")) for p in tmp_path.iterdir())
    # The same command with a good format runs the reporter.
    ck(store, tmp_path, "--plugins-dir", str(plugins), "report", "spy", "--format", "json")
    assert (tmp_path / "ran").read_text() == "ran"


def test_a_plugin_format_is_listed_and_chosen_by_its_ending(
    store: Path, tmp_path: Path, plugins: Path
) -> None:
    bad = ck(store, tmp_path, "--plugins-dir", str(plugins), "report", "--format", "nope", code=2)
    assert "available: table, csv, csv-raw, json, markdown, xlsx, html, broken" in bad.stderr
    result = ck(
        store, tmp_path, "--plugins-dir", str(plugins), "report", "--out", "x.broken", code=1
    )
    assert isinstance(result.exception, RuntimeError)


def test_out_is_replaced_atomically(store: Path, tmp_path: Path, plugins: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("the previous report\n", encoding="utf-8")
    target.chmod(0o640)
    failed = ck(
        store,
        tmp_path,
        "--plugins-dir",
        str(plugins),
        "report",
        "--format",
        "broken",
        "--out",
        "report.html",
        code=1,
    )
    assert "half-way" in str(failed.exception)
    assert target.read_text(encoding="utf-8") == "the previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plugins", "report.html"]
    ck(store, tmp_path, "report", "--out", "report.html")
    check_file(target, "html")
    assert target.stat().st_mode & 0o777 == 0o640  # the file keeps its permissions
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plugins", "report.html"]


def test_out_into_a_missing_folder_fails_cleanly(store: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--store", f"tinydb://{store}", "report", "--out", str(tmp_path / "no" / "r.csv")]
    )
    assert result.exit_code != 0
    assert not (tmp_path / "no").exists()


def test_binary_format_is_refusedon_a_terminal(store: Path, tmp_path: Path, plugins: Path) -> None:
    base = ["--store", f"tinydb://{store}", "--plugins-dir", str(plugins), "report", "spy"]
    code, out, err = on_a_terminal([*base, "--format", "xlsx"], tmp_path)
    assert code == 2, err
    assert "the xlsx format is binary and is not written to a terminal" in err
    assert "PK" not in out and not (tmp_path / "ran").exists()
    code, out, err = on_a_terminal([*base, "--format", "table"], tmp_path)
    assert code == 0, err
    assert "Spy" in out and (tmp_path / "ran").exists()


def test_report_list_still_works(store: Path, tmp_path: Path) -> None:
    listing = ck(store, tmp_path, "report", "--list").stdout
    assert "summary" in listing and "early-warning" in listing and "8d" in listing
    data = json.loads(ck(store, tmp_path, "report", "--list", "--format", "json").stdout)
    assert {"summary", "early-warning", "8d"} <= {r["name"] for r in data}
