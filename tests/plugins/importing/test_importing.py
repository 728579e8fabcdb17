"""Batch import: formats, mappings, presets, dates, references and rejected rows."""

from __future__ import annotations

import csv
import itertools
import json
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from complaintkit.errors import ConfigError
from complaintkit.model import Channel, Complaint, RemedyKind, Status
from complaintkit_importing import (
    FIELDS,
    PRESETS,
    ColumnMapping,
    RejectedRow,
    count_records,
    detect_format,
    detect_preset,
    fingerprint,
    read_complaints,
)
from conftest import REPO, require_dataset

SHANGHAI = ZoneInfo("Asia/Shanghai")
CST = timezone(timedelta(hours=8))
PST = timezone(timedelta(hours=-8))
EXAMPLES = REPO / "examples"

NATIVE_HEADER = [
    "reference", "received_at", "channel", "title", "text", "product", "order",
    "remedy_sought", "complainant_name", "complainant_phone", "complainant_email",
    "customer_id", "department", "tags", "custom.place", "store_code",
]  # fmt: skip
NATIVE_ROWS = [
    [
        "N-1", "2026-11-23T10:00:00+08:00", "wechat", "屏幕碎了", "手机屏幕三天就碎了，要求换货。",
        "星河S12手机", "TB-1", "换货", "张伟", "138 0013 8000", "zhang@example.cn", "K-1",
        "客服部", "vip；重复投诉", "上海徐汇门店", "SH-01",
    ],
    [
        "N-2", "2026-11-24", "Hotline", "", "The courier was rude.", "", "", "refund",
        "", "", "", "", "", "", "", "",
    ],
]  # fmt: skip


class Rejects(list[RejectedRow]):
    """Collects rejected rows; ``by_line`` for assertions."""

    def by_line(self) -> dict[int, RejectedRow]:
        return {row.line: row for row in self}


def read(path: Path, **options: Any) -> tuple[list[Complaint], Rejects]:
    rejects = Rejects()
    options.setdefault("tz", SHANGHAI)
    complaints = list(read_complaints(path, on_reject=rejects.append, **options))
    return complaints, rejects


def write_csv(path: Path, rows: list[list[str]], *, delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return path


def records(header: list[str], rows: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(header, row, strict=True)) for row in rows]


def check_native(complaints: list[Complaint]) -> None:
    first, second = complaints
    assert first.reference == "N-1"
    assert first.received_at == datetime(2026, 11, 23, 10, 0, tzinfo=CST)
    assert first.channel is Channel.WECHAT
    assert first.remedy_sought is RemedyKind.REPLACEMENT
    assert first.complainant.name == "张伟" and first.complainant.email == "zhang@example.cn"
    assert first.complainant.customer_id == "K-1" and first.order == "TB-1"
    assert first.tags == ("vip", "重复投诉")
    assert first.custom == {"place": "上海徐汇门店", "store_code": "SH-01"}
    assert first.department == "客服部"
    # A date without a time zone is midnight in the configured zone; aliases are understood.
    assert second.received_at == datetime(2026, 11, 24, tzinfo=SHANGHAI)
    assert second.channel is Channel.PHONE and second.remedy_sought is RemedyKind.REFUND
    assert second.title is None and second.product is None and second.custom == {}


# --- formats -----------------------------------------------------------------------------------


def test_native_csv(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "native.csv", [NATIVE_HEADER, *NATIVE_ROWS])
    complaints, rejects = read(path)
    assert rejects == []
    check_native(complaints)


def test_tsv(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "native.tsv", [NATIVE_HEADER, *NATIVE_ROWS], delimiter="\t")
    complaints, rejects = read(path)
    assert rejects == []
    check_native(complaints)


def test_semicolon_csv_as_written_by_european_excel(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "native.csv", [NATIVE_HEADER, *NATIVE_ROWS], delimiter=";")
    complaints, _ = read(path)
    check_native(complaints)


def test_json_array(tmp_path: Path) -> None:
    path = tmp_path / "native.json"
    path.write_text(json.dumps(records(NATIVE_HEADER, NATIVE_ROWS), ensure_ascii=False), "utf-8")
    complaints, rejects = read(path)
    assert rejects == []
    check_native(complaints)


def test_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "native.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in records(NATIVE_HEADER, NATIVE_ROWS)]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    complaints, rejects = read(path)
    assert rejects == []
    check_native(complaints)


def test_xlsx(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(NATIVE_HEADER)
    for row in NATIVE_ROWS:
        sheet.append(row)
    path = tmp_path / "native.xlsx"
    workbook.save(path)
    complaints, rejects = read(path)
    assert rejects == []
    check_native(complaints)


def test_xlsx_cells_keep_their_types_and_rows_their_numbers(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["reference", "received_at", "text", "satisfaction", "amount"])
    sheet.append([130785, datetime(2026, 11, 23, 9, 30), "Excel date cell", 4.0, 12.5])
    sheet.append([])  # an empty row is not a record, but it still counts as a row
    sheet.append([130786, "tomorrow", "bad date", None, None])
    path = tmp_path / "typed.xlsx"
    workbook.save(path)
    complaints, rejects = read(path)
    (complaint,) = complaints
    assert complaint.reference == "130785"  # Excel's float id is not "130785.0"
    assert complaint.received_at == datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI)
    assert complaint.satisfaction == 4 and complaint.custom == {"amount": 12.5}
    (rejected,) = rejects
    assert (rejected.line, rejected.unit, rejected.field) == (4, "row", "received_at")
    assert str(rejected).startswith(f"{path}, row 4, field received_at: 'tomorrow'")


# --- header detection and presets --------------------------------------------------------------


def test_native_header_is_recognised_case_and_space_insensitively(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "loose.csv",
        [["Received At", "Text", "Complainant Name"], ["2026-11-23", "Late parcel", "Li Lei"]],
    )
    rejects = Rejects()
    reader = read_complaints(path, tz=SHANGHAI, on_reject=rejects.append)
    assert reader.mapping.name == "native"
    (complaint,) = list(reader)
    assert complaint.complainant.name == "Li Lei"


@pytest.mark.parametrize(
    ("header", "preset"),
    [
        (["complaint_id", "date_received", "product", "sub_product", "issue", "sub_issue",
          "consumer_complaint_narrative", "company", "state", "zip_code", "tags",
          "submitted_via", "company_response_to_consumer", "timely_response"], "cfpb"),
        (["Date received", "Product", "Sub-product", "Issue", "Sub-issue",
          "Consumer complaint narrative", "Company public response", "Company", "State",
          "ZIP code", "Tags", "Consumer consent provided?", "Submitted via",
          "Date sent to company", "Company response to consumer", "Timely response?",
          "Consumer disputed?", "Complaint ID"], "cfpb"),
        (["Ticket #", "Customer Complaint", "Date", "Date_month_year", "Time", "Received Via",
          "City", "State", "Zip code", "Status", "Filing on Behalf of Someone"], "comcast-fcc"),
        (["tweet_id", "airline_sentiment", "negativereason", "airline", "name", "text",
          "tweet_created", "tweet_location"], "airline-tweets"),
        (["complaint_id", "date", "brand", "series", "model", "summary", "problem_codes",
          "status"], "chezhiwang"),
        (["source_dataset", "row_no", "cat", "label", "review"], "chinese-reviews"),
        (["tweet_id", "text", "is_complaint", "domain"], None),
    ],
)  # fmt: skip
def test_detect_preset(header: list[str], preset: str | None) -> None:
    assert detect_preset(header) == preset


def test_cfpb_preset_reads_the_original_export_header(tmp_path: Path) -> None:
    header = [
        "Date received", "Product", "Sub-product", "Issue", "Sub-issue",
        "Consumer complaint narrative", "Company", "State", "ZIP code", "Tags",
        "Submitted via", "Company response to consumer", "Timely response?", "Complaint ID",
    ]  # fmt: skip
    rows = [
        ["03/12/2014", "Mortgage", "", "Loan servicing", "", "They lost my payment.",
         "Bank A", "CA", "90001", "Servicemember", "Fax", "Closed", "Yes", "759217"],
        ["2025-01-15", "Credit card", "", "Fees or interest", "Late fee", "", "Bank B", "NY",
         "10001", "", "Web", "In progress", "Yes", "1234567"],
    ]  # fmt: skip
    path = write_csv(tmp_path / "Consumer_Complaints.csv", [header, *rows])
    rejects = Rejects()
    reader = read_complaints(path, tz=SHANGHAI, on_reject=rejects.append)
    assert reader.mapping.name == "cfpb"
    old, new = list(reader)
    assert rejects == []
    assert old.reference == "CFPB-759217" and old.channel is Channel.OTHER  # fax
    assert old.received_at == datetime(2014, 3, 12, tzinfo=SHANGHAI)  # US date format
    assert old.text == "They lost my payment." and old.tags == ("Servicemember",)
    assert old.custom["timely_response"] == "Yes" and old.custom["submitted_via"] == "Fax"
    # Without a narrative, CFPB's issue and sub-issue say what the complaint is about.
    assert new.text == "Fees or interest: Late fee" and new.title == "Fees or interest"
    assert new.channel is Channel.WEB


def test_unrecognised_header_names_columns_and_missing_fields(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "odd.csv", [["id", "body", "when"], ["1", "x", "2026-11-23"]])
    with pytest.raises(ConfigError) as caught:
        read_complaints(path, tz=SHANGHAI, on_reject=lambda row: None)
    message = str(caught.value)
    assert "id, body, when" in message
    assert "could not be filled: received_at, text" in message
    assert "--mapping PRESET" in message and "--map field=column" in message


def test_misspelt_native_column_is_refused_not_filed_as_custom(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "typo.csv",
        [["received_at", "text", "complainant_emial"], ["2026-11-23", "x", "a@example.com"]],
    )
    with pytest.raises(ConfigError, match=r"complainant_emial.*complainant_email"):
        read_complaints(path, tz=SHANGHAI, on_reject=lambda row: None)


def test_preset_files_match_the_preset_list() -> None:
    shipped = resources.files("complaintkit_importing") / "mappings"
    names = sorted(
        p.name.removesuffix(".toml") for p in shipped.iterdir() if p.name.endswith(".toml")
    )
    assert names == sorted(PRESETS)
    for name in PRESETS:
        assert ColumnMapping.preset(name).name == name


def test_unknown_preset_lists_the_presets() -> None:
    with pytest.raises(ConfigError, match=r"cfbp.*did you mean cfpb.*comcast-fcc"):
        ColumnMapping.preset("cfbp")


@pytest.mark.slow
def test_cfpb_real_file_imports_with_no_rejects() -> None:
    path = require_dataset("cfpb_complaints/cfpb_complaints.csv")
    rejects = Rejects()
    with read_complaints(path, tz=SHANGHAI, on_reject=rejects.append) as reader:
        assert reader.mapping.name == "cfpb"
        complaints = list(itertools.islice(reader, 2000))
    assert len(complaints) == 2000 and rejects == []
    assert all(c.reference.startswith("CFPB-") and c.text for c in complaints)
    assert len({c.reference for c in complaints}) == 2000
    channels = Counter(c.channel for c in complaints)
    assert channels[Channel.WEB] > 0 and set(channels) <= set(Channel)
    assert all(c.custom.get("timely_response") in ("Yes", "No") for c in complaints)


@pytest.mark.slow
def test_chinese_reviews_real_file_imports_with_no_rejects() -> None:
    path = require_dataset("chinese_reviews/chinese_reviews.csv")
    rejects = Rejects()
    with read_complaints(path, tz=SHANGHAI, on_reject=rejects.append) as reader:
        assert reader.mapping.name == "chinese-reviews"
        complaints = list(itertools.islice(reader, 2000))
        left_out = reader.left_out
    assert len(complaints) == 2000 and rejects == []
    # the preset keeps the negative reviews (label 0) only, and counts the others
    assert left_out > 1000 and all(c.custom["sentiment"] == "negative" for c in complaints)
    first = complaints[0]
    assert first.reference.startswith("CNR-online_shopping_10_cats:") and first.product == "书籍"
    assert first.channel is Channel.WEB


@pytest.mark.slow
@pytest.mark.parametrize(
    ("relative", "preset", "count"),
    [
        ("comcast_fcc_complaints_2015/comcast_fcc_complaints_2015.csv", "comcast-fcc", 1810),
        ("chezhiwang_car_complaints/car_complaints.csv", "chezhiwang", 1933),
        # 4,333 positive and neutral tweets are left out by the preset's filter
        ("twitter_airline_sentiment/tweets.csv", "airline-tweets", 11699 - 4333),
    ],
)
def test_small_real_files_import_whole(relative: str, preset: str, count: int) -> None:
    path = require_dataset(relative)
    rejects = Rejects()
    repeats: list[tuple[int, int]] = []
    reader = read_complaints(
        path, tz=SHANGHAI, on_reject=rejects.append, on_duplicate=lambda *r: repeats.append(r)
    )
    assert reader.mapping.name == preset
    complaints = list(reader)
    assert len(complaints) + len(rejects) + len(repeats) == count
    # The tweet export repeats some tweets: verbatim ones are skipped, those whose other
    # columns differ (a re-annotated tweet) are refused, naming the first line.
    assert all(r.field == "reference" and "duplicate of line" in r.reason for r in rejects)
    assert all(first < line for line, first in repeats)
    assert len({c.reference for c in complaints}) == len(complaints)
    if preset == "airline-tweets":
        # the Twitter handle names the customer too, so reports can count affected customers
        assert all(c.complainant.customer_id == c.complainant.name for c in complaints)
        assert len({c.complainant.customer_id for c in complaints}) == 4317  # negative only


# --- rejected rows -----------------------------------------------------------------------------


BAD_CSV = (
    "reference,received_at,channel,text,satisfaction,complainant_email\n"  # line 1
    'G-1,2026-11-23,phone,"A complaint\n'  # line 2: a quoted field over three lines
    "that goes on\n"
    'for three lines",,\n'
    "B-1,yesterday,phone,Broken screen,,\n"  # line 5
    "\n"  # line 6: blank, not a record
    "B-2,2026-11-23,carrier pigeon,Lost parcel,,\n"  # line 7
    "B-3,2026-11-23,web,,,\n"  # line 8
    "B-4,2026-11-23,web,Slow repair,7,\n"  # line 9
    "B-5,2026-11-23,web,Wrong address,,li.lei-at-example\n"  # line 10
    "B-6,2026-11-23,web,Stray comma,,,extra\n"  # line 11
    "G-2,2026-11-23,email,Fine,5,li.lei@example.com\n"  # line 12
    "G-1,2026-11-24,email,Same reference again,,\n"  # line 13
    "B-7,not a date,fax,,9,\n"  # line 14: several problems at once
)


def test_bad_rows_are_reported_with_physical_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(BAD_CSV, "utf-8")
    complaints, rejects = read(path)
    assert [c.reference for c in complaints] == ["G-1", "G-2"]
    assert complaints[0].text == "A complaint\nthat goes on\nfor three lines"
    found = {line: row.field for line, row in rejects.by_line().items()}
    assert found == {
        5: "received_at",
        7: "channel",
        8: "text",
        9: "satisfaction",
        10: "complainant_email",
        11: None,
        13: "reference",
        14: "text",
    }
    rows = rejects.by_line()
    assert str(rows[5]) == (
        f"{path}, line 5, field received_at: 'yesterday' is not a date "
        "(expected e.g. 2026-11-23 or 2026-11-23T10:00:00+08:00)"
    )
    assert rows[5].raw == {
        "reference": "B-1", "received_at": "yesterday", "channel": "phone",
        "text": "Broken screen", "satisfaction": "", "complainant_email": "",
    }  # fmt: skip
    assert "phone, sms, email" in rows[7].reason and "[values.channel]" in rows[7].reason
    assert "out of range (expected 1 to 5)" in rows[9].reason
    assert "7 values but the header has 6 columns" in rows[11].reason
    assert rows[11].raw["_extra"] == ["extra"]
    assert "duplicate of line 2" in rows[13].reason
    # One reject per record, listing every problem.
    assert "also field received_at" in rows[14].reason and "also field channel" in rows[14].reason
    assert "also field satisfaction" in rows[14].reason


def test_unclosed_quote_is_reported_not_swallowed_silently(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text(
        'received_at,text\n2026-11-23,fine\n2026-11-23,"opened\n'
        + "".join(f"2026-11-23,row {i}\n" for i in range(10)),
        "utf-8",
    )
    complaints, rejects = read(path)
    assert len(complaints) == 1
    (rejected,) = rejects
    assert rejected.line == 3 and "never closed" in rejected.reason


def test_stray_quote_rejects_only_its_record(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text('received_at,text\n2026-11-23,"5" screen\n2026-11-23,fine\n', "utf-8")
    complaints, rejects = read(path)
    assert [c.text for c in complaints] == ["fine"]
    assert rejects[0].line == 2 and "quote closes in the middle of a value" in rejects[0].reason


def test_json_items_and_jsonl_lines_are_numbered(tmp_path: Path) -> None:
    array = tmp_path / "items.json"
    array.write_text(
        json.dumps([
            {"received_at": "2026-11-23", "text": "ok"},
            "not an object",
            {"received_at": "2026-11-23", "text": ""},
        ]),
        "utf-8",
    )  # fmt: skip
    complaints, rejects = read(array)
    assert len(complaints) == 1
    assert [(r.unit, r.line, r.field) for r in rejects] == [("item", 2, None), ("item", 3, "text")]

    lines = tmp_path / "lines.jsonl"
    lines.write_text(
        '{"received_at": "2026-11-23", "text": "ok"}\n'
        "\n"
        "{not json\n"
        '{"received_at": "2026-11-23", "text": "ok too", "channel": "fax machine"}\n',
        "utf-8",
    )
    complaints, rejects = read(lines)
    assert len(complaints) == 1
    assert [(r.line, r.field) for r in rejects] == [(3, None), (4, "channel")]
    assert rejects[0].raw == {"_line": "{not json"}


def test_bom_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffreference,received_at,text\nR-1,2026-11-23,有BOM的文件\n".encode())
    complaints, rejects = read(path)
    assert rejects == [] and complaints[0].reference == "R-1"

    jsonl = tmp_path / "bom.jsonl"
    jsonl.write_bytes(
        '\ufeff{"reference": "R-2", "received_at": "2026-11-23", "text": "x"}\n'.encode()
    )
    assert read(jsonl)[0][0].reference == "R-2"


def test_wrong_encoding_fails_before_importing_and_says_what_to_try(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("received_at,text\n2026-11-23,快递员态度恶劣\n".encode("gbk"))
    with pytest.raises(ConfigError, match=r"not valid utf-8-sig.*gb18030"):
        read_complaints(path, tz=SHANGHAI, on_reject=lambda row: None)
    complaints, _ = read(path, encoding="gb18030")
    assert complaints[0].text == "快递员态度恶劣"


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "json"])
def test_a_workbook_read_as_text_says_so_rather_than_blaming_the_encoding(
    tmp_path: Path, fmt: str
) -> None:
    """Was `not valid utf-8-sig …: try --encoding gb18030` for an .xlsx given `--format csv`."""
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    workbook.active.append(["received_at", "text"])
    workbook.active.append(["2026-11-23", "快递员态度恶劣"])
    path = tmp_path / "export.csv"  # a workbook under a CSV name
    workbook.save(path)
    with pytest.raises(ConfigError) as raised:
        read_complaints(path, fmt=fmt, tz=SHANGHAI, on_reject=lambda row: None)
    assert str(raised.value) == (
        f"{path} is a zip archive (an Excel .xlsx workbook?), not utf-8-sig text: import it "
        "with --format xlsx, or under a name ending in .xlsx"
    )
    assert read(path, fmt="xlsx")[0][0].text == "快递员态度恶劣"  # and so it is, under any name
    assert count_records(path, "xlsx") == 1
    old = tmp_path / "old.csv"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    with pytest.raises(ConfigError, match=r"old Excel \.xls workbook .*save it as \.xlsx or CSV"):
        read_complaints(old, fmt=fmt, tz=SHANGHAI, on_reject=lambda row: None)


# --- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-23", datetime(2026, 11, 23, tzinfo=SHANGHAI)),
        ("2026-11-23T10:00:00+08:00", datetime(2026, 11, 23, 10, tzinfo=CST)),
        ("2026-11-23 10:00", datetime(2026, 11, 23, 10, tzinfo=SHANGHAI)),
        ("2026-11-23T02:00:00Z", datetime(2026, 11, 23, 2, tzinfo=UTC)),
        ("2015-02-24 11:35:52 -0800", datetime(2015, 2, 24, 11, 35, 52, tzinfo=PST)),
        ("2026年11月23日", datetime(2026, 11, 23, tzinfo=SHANGHAI)),
        ("2026年1月5日 14时30分", datetime(2026, 1, 5, 14, 30, tzinfo=SHANGHAI)),
        ("2026/11/23", datetime(2026, 11, 23, tzinfo=SHANGHAI)),
        ("2026/1/5 9:05:30", datetime(2026, 1, 5, 9, 5, 30, tzinfo=SHANGHAI)),
        ("2026.11.23", datetime(2026, 11, 23, tzinfo=SHANGHAI)),
    ],
)  # fmt: skip
def test_dates(tmp_path: Path, value: str, expected: datetime) -> None:
    path = write_csv(tmp_path / "d.csv", [["received_at", "text"], [value, "x"]])
    complaints, rejects = read(path)
    assert rejects == []
    assert complaints[0].received_at == expected
    assert complaints[0].received_at.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "2026年2月30日", "23/11/2026"])
def test_bad_dates_are_rejected(tmp_path: Path, value: str) -> None:
    path = write_csv(tmp_path / "d.csv", [["received_at", "text"], [value, "x"]])
    complaints, rejects = read(path)
    assert complaints == [] and rejects[0].field == "received_at"
    assert repr(value) in rejects[0].reason


# --- references ----------------------------------------------------------------------------------


def test_fingerprint_is_stable_and_tells_rows_apart(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "noid.csv",
        [
            ["received_at", "channel", "text", "complainant_name"],
            ["2026-11-23 10:00", "phone", "Late parcel", "Li Lei"],
            ["2026-11-23 10:00", "phone", "Late  parcel ", "Han Meimei"],
            ["2026-11-23 10:00", "email", "Late parcel", "Li Lei"],
        ],
    )
    first, _ = read(path)
    again, _ = read(path)
    references = [c.reference for c in first]
    assert references == [c.reference for c in again]
    assert len(set(references)) == 3
    assert all(r.startswith("IMP-") and len(r) == 20 for r in references)
    assert [fingerprint(c) for c in first] == references
    # Pinned, so that a change of the recipe (which would duplicate re-imported files) fails here.
    assert references[0] == "IMP-3E18C47955DB0380"


def test_the_same_row_twice_in_one_file_is_one_complaint(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "twice.csv",
        [["received_at", "text"], ["2026-11-23", "Late"], ["2026-11-23", "Late"]],
    )
    repeats: list[tuple[int, int]] = []
    complaints, rejects = read(path, on_duplicate=lambda *r: repeats.append(r))
    assert len(complaints) == 1 and len(rejects) == 0
    assert repeats == [(3, 2)]


def test_the_same_content_with_other_columns_is_a_duplicate_to_look_at(tmp_path: Path) -> None:
    # The fingerprint leaves the product out; the rows differ there, so neither is dropped.
    path = write_csv(
        tmp_path / "twice.csv",
        [
            ["received_at", "text", "product"],
            ["2026-11-23", "Late", "A"],
            ["2026-11-23", "Late", "B"],
        ],
    )
    complaints, rejects = read(path)
    assert len(complaints) == 1
    assert rejects[0].line == 3 and (
        "duplicate of line 2 (both have the same content, fingerprint" in rejects[0].reason
    )
    assert rejects[0].raw["product"] == "B"


# --- mappings ------------------------------------------------------------------------------------


def test_map_overrides_name_columns_for_fields(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        [["id", "when", "body", "narrative", "shop"], ["7", "2026-11-23", "", "Rude staff", "A1"]],
    )
    mapping = ColumnMapping.native().with_overrides(
        {"reference": "id", "received_at": "when", "text": "body|narrative", "custom.shop": "shop"}
    )
    complaints, rejects = read(path, mapping=mapping)
    assert rejects == []
    (complaint,) = complaints
    assert complaint.reference == "7" and complaint.text == "Rude staff"
    assert complaint.custom == {"shop": "A1"}


def test_a_field_column_displaced_by_map_is_kept_as_custom(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "both.csv",
        [["received_at", "text", "narrative"], ["2026-11-23", "short", "The long story"]],
    )
    mapping = ColumnMapping.native().with_overrides({"text": "narrative"})
    (complaint,), _ = read(path, mapping=mapping)
    # kept under a name that is not one of ours, so an export and re-import cannot confuse them
    assert complaint.text == "The long story" and complaint.custom == {"source_text": "short"}


def test_map_override_to_a_missing_column_fails(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", [["received_at", "text"], ["2026-11-23", "x"]])
    mapping = ColumnMapping.native().with_overrides({"product": "sku"})
    with pytest.raises(ConfigError, match="'sku' \\(for product\\)"):
        read_complaints(path, mapping=mapping, tz=SHANGHAI, on_reject=lambda row: None)
    with pytest.raises(ConfigError, match=r"unknown field 'prodcut'.*did you mean product"):
        ColumnMapping.native().with_overrides({"prodcut": "sku"})


MAPPING_TOML = """
name = "shop-export"

[columns]
reference = { join = ["store", "no"], sep = "/" }
received_at = "日期"
received_time = "时间"
text = ["内容", "摘要"]
channel = "渠道"
remedy_sought = "诉求"

[values.channel]
"400热线" = "phone"
"*" = "other"

[values.remedy_sought]
"退一赔三" = "compensation"

[defaults]
product = "星河S12手机"

[custom]
store = "store"

[options]
reference_prefix = "SHOP-"
date_format = "%d.%m.%Y"
time_format = "%H.%M"
"""


def test_mapping_file_joins_translates_and_defaults(tmp_path: Path) -> None:
    mapping_file = tmp_path / "shop.toml"
    mapping_file.write_text(MAPPING_TOML, "utf-8")
    path = write_csv(
        tmp_path / "shop.csv",
        [
            ["store", "no", "日期", "时间", "内容", "摘要", "渠道", "诉求"],
            ["SH", "1", "23.11.2026", "14.30", "", "屏幕坏了", "400热线", "退一赔三"],
            ["SH", "2", "2026-11-24", "", "电池鼓包", "", "信鸽", ""],
        ],
    )
    complaints, rejects = read(path, mapping=ColumnMapping.from_file(mapping_file))
    assert rejects == []
    first, second = complaints
    assert first.reference == "SHOP-SH/1" and first.text == "屏幕坏了"
    assert first.received_at == datetime(2026, 11, 23, 14, 30, tzinfo=SHANGHAI)
    assert first.channel is Channel.PHONE and first.remedy_sought is RemedyKind.COMPENSATION
    assert first.product == "星河S12手机" and first.custom == {"store": "SH"}
    assert second.received_at == datetime(2026, 11, 24, tzinfo=SHANGHAI)  # ISO still works
    assert second.channel is Channel.OTHER  # "*" catches values nobody listed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[columns]\ntext = "a"\nreceived_at = \n', "shop.toml: not valid TOML.*line 3"),
        ('[columns]\ntext = "a"\nreceived_at = "b"\nbody = "c"\n', "unknown field 'body'"),
        ('[columns]\ntext = "a"\nreceived_at = "b"\n[values.channel]\nFax = "fax"\n',
         "'fax' is not a channel; channels: phone"),
        ('[columns]\ntext = "a"\n', "no column for received_at"),
        ('[columns]\ntext = "a"\nreceived_at = "b"\n[options]\ndate_fromat = "%d"\n',
         "unknown option\\(s\\) date_fromat"),
        ('[columns]\ntext = ["a", 3]\nreceived_at = "b"\n',
         "\\[columns\\] text: expected a column"),
    ],
)  # fmt: skip
def test_mapping_file_errors_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "shop.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        ColumnMapping.from_file(path)
    assert str(path) in str(caught.value)


def test_strict_mapping_file_needs_every_column_it_names(tmp_path: Path) -> None:
    mapping_file = tmp_path / "m.toml"
    mapping_file.write_text('[columns]\ntext = "body"\nreceived_at = "when"\ntitle = "subject"\n')
    path = write_csv(tmp_path / "e.csv", [["body", "when"], ["x", "2026-11-23"]])
    with pytest.raises(ConfigError, match="'subject' \\(for title\\)"):
        read_complaints(path, mapping=ColumnMapping.from_file(mapping_file), tz=SHANGHAI,
                        on_reject=lambda row: None)  # fmt: skip


def test_comcast_preset_joins_date_and_twelve_hour_time(tmp_path: Path) -> None:
    header = ["Ticket #", "Customer Complaint", "Date", "Date_month_year", "Time",
              "Received Via", "City", "State", "Zip code", "Status",
              "Filing on Behalf of Someone"]  # fmt: skip
    row = ["1", "Data cap", "22-04-15", "22-Apr-15", "3:53:50 PM", "Customer Care Call",
           "Abingdon", "Maryland", "21009", "Closed", "No"]  # fmt: skip
    complaints, rejects = read(write_csv(tmp_path / "fcc.csv", [header, row]), tz=UTC)
    assert rejects == []
    (complaint,) = complaints
    assert complaint.reference == "FCC-1" and complaint.channel is Channel.PHONE
    assert complaint.received_at == datetime(2015, 4, 22, 15, 53, 50, tzinfo=UTC)
    # the FCC's status is ours (closed, at a time the export does not give) and kept as it was
    assert complaint.status is Status.CLOSED and complaint.custom["fcc_status"] == "Closed"
    assert [e.action for e in complaint.history] == ["received", "import"]


# --- files, counts, streaming --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.CSV", "", "csv"), ("a.tsv", "", "tsv"), ("a.json", "", "json"),
        ("a.ndjson", "", "jsonl"), ("a.xlsx", "", "xlsx"),
        ("a.txt", "received_at\ttext\n", "tsv"), ("a.txt", "received_at,text\n", "csv"),
        ("a.txt", '[{"text": "x"}]', "json"), ("a.txt", '{"text": "x"}\n', "jsonl"),
    ],
)  # fmt: skip
def test_detect_format(tmp_path: Path, name: str, content: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(content, "utf-8")
    assert detect_format(path) == expected


def test_detect_format_refuses_unknown_extensions(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--format csv\\|tsv\\|json\\|jsonl\\|xlsx"):
        detect_format(tmp_path / "complaints.dat")
    with pytest.raises(ConfigError, match=r"save it as \.xlsx or CSV"):
        detect_format(tmp_path / "complaints.xls")


def test_count_records(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "n.csv", [["received_at", "text"]] + [["2026-11-23", "x"]] * 7)
    assert count_records(path, "csv") == 7
    jsonl = tmp_path / "n.jsonl"
    jsonl.write_text('{"text": "a"}\n{"text": "b"}', "utf-8")
    assert count_records(jsonl, "jsonl") == 2
    assert count_records(tmp_path / "n.json", "json") is None


def _big_csv(path: Path, rows: int) -> Path:
    text = "x" * 2000
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["received_at", "text"])
        for i in range(rows):
            writer.writerow([f"2026-11-{1 + i % 28:02d}", f"{i} {text}"])
    return path


def test_csv_is_streamed_not_loaded(tmp_path: Path) -> None:
    path = _big_csv(tmp_path / "big.csv", 5000)  # about 10 MB
    size = path.stat().st_size
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_complaints(path, tz=SHANGHAI, on_reject=lambda r: None))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 5000
    assert peak < size / 5, f"peak {peak} bytes for a {size} byte file"


def test_reader_is_lazy_and_closes_early(tmp_path: Path) -> None:
    path = _big_csv(tmp_path / "lazy.csv", 50)
    reader = read_complaints(path, tz=SHANGHAI, on_reject=lambda r: None)
    first = next(reader)
    assert first.text.startswith("0 ")
    reader.close()
    with pytest.raises(StopIteration):
        next(reader)


# --- the shipped examples ------------------------------------------------------------------------


def test_examples_import_cleanly_and_cover_every_channel() -> None:
    complaints, rejects = read(EXAMPLES / "complaints.csv")
    assert rejects == [] and len(complaints) == 60
    assert {c.channel for c in complaints} >= set(Channel) - {Channel.REFERRAL, Channel.OTHER}
    chinese = sum(1 for c in complaints if any("\u4e00" <= ch <= "\u9fff" for ch in c.text))
    assert 25 <= chinese <= 35
    assert all(c.complainant.name and c.custom.get("place") is not None for c in complaints[:3])


def test_bad_rows_example_shows_each_kind_of_reject() -> None:
    repeats: list[tuple[int, int]] = []
    complaints, rejects = read(EXAMPLES / "bad_rows.csv", on_duplicate=lambda *r: repeats.append(r))
    assert len(complaints) == 4
    assert [(r.line, r.field) for r in rejects] == [
        (3, "text"),
        (4, "received_at"),
        (6, "channel"),
        (10, "satisfaction"),
        (11, "complainant_email"),
        (12, "received_at"),
        (13, "remedy_sought"),
        (16, None),
    ]
    assert repeats == [(14, 2)]  # the same row again: skipped, not an error


def test_fields_constant_lists_native_columns() -> None:
    assert {"reference", "received_at", "text", "tags", "satisfaction"} <= set(FIELDS)


def test_reimport_through_the_desk_adds_nothing_twice(tmp_path: Path, ck_desk: Any) -> None:
    path = write_csv(
        tmp_path / "noid.csv",
        [["received_at", "text"], ["2026-11-23", "Late parcel"], ["2026-11-24", "Rude staff"]],
    )

    def stream() -> Iterator[Complaint]:
        return read_complaints(path, tz=SHANGHAI, on_reject=lambda r: None)

    first = ck_desk.intake_many(stream(), classify=False)
    second = ck_desk.intake_many(stream(), classify=False)
    assert first.added == 2
    assert second.added == 0 and len(second.skipped) == 2
