"""Store URLs mean one thing for every backend, and only `init` (or --create) makes a store.

A mistyped store used to be a new, empty one: `list` printed "0 of 0" and `add` created it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from complaintkit import Config, StoreNotFoundError, make_host
from complaintkit.errors import ConfigError
from complaintkit.storage import ExistsStore, resolve_url, store_path
from complaintkit_cli.main import cli

EXAMPLES = Path(__file__).parents[1] / "examples" / "complaints.csv"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"COMPLAINTKIT_CONFIG": None})


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# --- the convention ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("tinydb:///var/lib/ck/c.json", "/var/lib/ck/c.json"),
        ("sqlite:///var/lib/ck/c.db", "/var/lib/ck/c.db"),
        # SQLAlchemy's absolute spelling means the same file
        ("sqlite:////var/lib/ck/c.db", "/var/lib/ck/c.db"),
        ("tinydb:////var/lib/ck/c.json", "/var/lib/ck/c.json"),
        ("tinydb://c.json", "BASE/c.json"),
        ("sqlite://data/c.db", "BASE/data/c.db"),
        ("sqlite+pysqlite://data/c.db?timeout=5", "BASE/data/c.db"),
        ("tinydb://data/../c.json", "BASE/c.json"),
    ],
)
def test_every_file_store_reads_its_url_the_same_way(url: str, path: str, tmp_path: Path) -> None:
    assert store_path(url, tmp_path) == Path(path.replace("BASE", str(tmp_path)))


def test_a_tilde_is_the_home_folder_for_every_file_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert store_path("tinydb://~/c.json") == tmp_path / "c.json"
    assert store_path("sqlite://~/c.db") == tmp_path / "c.db"


def test_resolving_makes_file_paths_absolute_and_leaves_other_urls_alone(tmp_path: Path) -> None:
    assert resolve_url("tinydb://c.json", tmp_path) == f"tinydb://{tmp_path}/c.json"
    assert (
        resolve_url("sqlite+pysqlite://c.db?timeout=5", tmp_path)
        == f"sqlite+pysqlite://{tmp_path}/c.db?timeout=5"
    )
    assert resolve_url("postgresql://ck@db.example/ck", tmp_path) == "postgresql://ck@db.example/ck"
    assert resolve_url("c.json", tmp_path) == "c.json"  # opening says it is no URL


def test_sqlalchemys_relative_spelling_is_refused_when_that_file_is_here(tmp_path: Path) -> None:
    (tmp_path / "complaints.db").touch()
    with pytest.raises(ConfigError) as caught:
        resolve_url("sqlite:///complaints.db", tmp_path)
    message = str(caught.value)
    assert "names /complaints.db, which does not exist" in message
    assert f"{tmp_path / 'complaints.db'} does" in message
    assert "write sqlite://complaints.db" in message and "sqlite:////complaints.db" in message


def test_sqlalchemys_relative_spelling_is_refused_for_a_file_in_the_root_folder(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match="it would be a file in the root folder"):
        resolve_url("sqlite:///ck-test-nowhere.db", tmp_path)


def test_sqlalchemys_relative_spelling_is_refused_under_a_missing_top_folder(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match="neither does /ck-test-no-such-folder"):
        resolve_url("sqlite:///ck-test-no-such-folder/c.db", tmp_path)


def test_three_slashes_are_an_absolute_path_for_sqlite_as_for_tinydb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: `sqlite:///tmp/x.db` created `./tmp/x.db`."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for url, name in (
        (f"sqlite://{tmp_path}/x.db", "x.db"),
        (f"tinydb://{tmp_path}/x.json", "x.json"),
    ):
        assert url.startswith(("sqlite:///", "tinydb:///"))
        made = run("--store", url, "init")
        assert made.exit_code == 0, made.output
        assert made.stdout.startswith(f"store ready: {url} (0 complaints, created now)")
        assert (tmp_path / name).is_file()
    assert files_under(work) == []


def test_a_relative_path_in_the_configuration_is_relative_to_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    config = project / "complaintkit.toml"
    config.write_text('store = "sqlite://data/c.db"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    made = run("--config", str(config), "init")
    assert made.exit_code == 0, made.output
    assert f"store ready: sqlite://{project / 'data' / 'c.db'} " in made.stdout
    assert (project / "data" / "c.db").is_file()


def test_sqlalchemys_relative_spelling_in_the_configuration_names_the_fix(tmp_path: Path) -> None:
    config = tmp_path / "complaintkit.toml"
    config.write_text('store = "sqlite:///complaints.db"\n', encoding="utf-8")
    result = run("--config", str(config), "list")
    assert result.exit_code == 2
    assert "write sqlite://complaints.db" in result.stderr
    assert files_under(tmp_path) == ["complaintkit.toml"]


# --- only init creates ---------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["tinydb", "sqlite"])
@pytest.mark.parametrize(
    "command",
    [
        ["list"],
        ["add", "--text", "The parcel is late"],
        ["import", str(EXAMPLES)],
        ["import", str(EXAMPLES), "--dry-run"],
        ["show", "CK-1"],
        ["report", "summary"],
        ["sweep"],
        ["outbox", "list"],
    ],
)
def test_every_command_but_init_refuses_a_store_that_does_not_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scheme: str, command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("--store", f"{scheme}://typo/complaints.x", *command)
    assert result.exit_code == 2, result.output
    url = f"{scheme}://{tmp_path}/typo/complaints.x"
    assert result.stderr == (
        f"Error: store {url} does not exist; create it with: complaintkit --store {url} init "
        "(or add --create to this command); if it should exist, check the store URL\n"
    )
    assert files_under(tmp_path) == []  # no store, no lock file, no folder, no rejects file


def test_create_makes_the_store_for_the_command_that_needs_it(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/new.db"
    result = run("--store", url, "--create", "import", str(EXAMPLES))
    assert result.exit_code == 0, result.output
    assert "imported 60" in result.stdout
    assert run("--store", url, "list", "--limit", "1").stdout.endswith("1 of 60 complaints\n")


def test_the_sdk_creates_by_default_and_refuses_when_asked(tmp_path: Path) -> None:
    host = make_host(Config(store=f"tinydb://{tmp_path}/c.json"), env={})
    with pytest.raises(StoreNotFoundError, match=f"store tinydb://{tmp_path}/c.json does not"):
        host.open_store(create=False)
    assert files_under(tmp_path) == []
    with host.open_store() as store:
        assert (tmp_path / "c.json").is_file() and store.count() == 0
    with host.open_store(create=False) as store:
        assert store.count() == 0


def test_a_store_opened_as_it_is_is_neither_created_nor_refused(tmp_path: Path) -> None:
    host = make_host(Config(store=f"sqlite://{tmp_path}/c.db"), env={})
    with host.open_store(create=None) as store:
        assert isinstance(store, ExistsStore) and not store.exists()
    assert files_under(tmp_path) == []
