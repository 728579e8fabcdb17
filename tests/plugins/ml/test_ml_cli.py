"""``complaintkit train`` and the modes of ``[ml.SCHEME]``, end to end on a real TinyDB file."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from ml_support import EXAMPLES

from complaintkit import Config, Desk, make_host
from complaintkit.commands import in_split
from complaintkit.testing import make_complaint
from complaintkit_cli.main import cli


class Project:
    """A folder with complaintkit.toml and a store whose cause labels people gave."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = root / "complaintkit.toml"
        self.store = f"tinydb://{root / 'store.json'}"
        self.configure("rules")
        host = make_host(Config(store=self.store), env={})
        store = host.open_store(self.store, create=True)
        with store:
            desk = Desk(host, store, actor="han.meimei")
            for number, (text, cause) in enumerate(EXAMPLES, 1):
                desk.intake(make_complaint(f"L-{number}", text=text))
                desk.label(f"L-{number}", "cause", cause, reason="read and checked")
            # classified by the rules only: not something a person confirmed
            desk.intake(make_complaint("R-1", text="The price is too expensive"))

    def configure(self, mode: str, **extra: object) -> None:
        lines = ["[ml.cause]", f'mode = "{mode}"', 'model = "models/cause.json"']
        lines += [f"{key} = {json.dumps(value)}" for key, value in extra.items()]
        self.config.write_text(
            f'store = "{self.store}"\n' + "\n".join(lines) + "\n", encoding="utf-8"
        )

    def run(self, *args: str, ok: bool = True) -> Result:
        result = CliRunner().invoke(cli, ["--config", str(self.config), *args])
        if ok:
            assert result.exit_code == 0, result.output
        return result

    def label(self, reference: str) -> object:
        host = make_host(Config(store=self.store), env={})
        with host.open_store(self.store) as store:
            return store.get(reference).labels.get("cause")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def test_train_learns_from_labels_people_gave(project: Project) -> None:
    out = project.run("train", "cause", "--folds", "3").stdout
    assert f"trained on {len(EXAMPLES)} examples" in out  # R-1, labelled by the rules, is not
    assert "labelled by people" in out
    for row in ("all ", "en ", "zh "):
        assert f"\n{row}" in out
    assert "product_quality" in out and "macro-F1" in out
    model = json.loads((project.root / "models" / "cause.json").read_text(encoding="utf-8"))
    assert model["scheme"] == "cause"
    assert model["metadata"]["training_set"]["size"] == len(EXAMPLES)


def test_train_json_output(project: Project) -> None:
    data = json.loads(project.run("train", "cause", "--folds", "3", "--format", "json").stdout)
    assert data["figures"]["n"] == len(EXAMPLES)
    assert set(data["figures"]["by_language"]) == {"en", "zh"}
    assert len(data["training_set"]["sha256"]) == 64


def test_train_learning_curve(project: Project) -> None:
    data = json.loads(
        project.run("train", "cause", "--folds", "3", "--learning-curve", "--format", "json").stdout
    )
    curve = data["learning_curve"]
    assert len(curve) == 5
    sizes = [point["examples"] for point in curve]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    assert all(0 <= point["accuracy"] <= 1 for point in curve)
    # The last point learnt from each fold's whole part: the cross-validated figure itself.
    assert curve[-1]["accuracy"] == round(data["figures"]["accuracy"], 4)
    table = project.run("train", "cause", "--folds", "3", "--learning-curve").stdout
    assert "learning curve" in table and "examples  accuracy  macro-F1" in table
    assert "learning curve" not in project.run("train", "cause", "--folds", "3").stdout


def test_train_from_a_labelled_file_with_columns_and_map(project: Project) -> None:
    file = project.root / "labelled.csv"
    with file.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["body", "reason"])
        short = {"product_quality": "P", "service_quality": "S", "price": "$"}
        writer.writerows((text, short[cause]) for text, cause in EXAMPLES)
        writer.writerow(["an unmapped row", "?"])
    out = project.run(
        "train",
        "cause",
        str(file),
        "--text-column",
        "body",
        "--label-column",
        "reason",
        "--map",
        "P=product_quality",
        "--map",
        "S=service_quality",
        "--map",
        "$=price",
        "--folds",
        "3",
    ).stdout
    assert f"trained on {len(EXAMPLES)} examples ({len(EXAMPLES)} from {file})" in out


def test_train_refuses_labels_the_scheme_does_not_have(project: Project) -> None:
    file = project.root / "labelled.csv"
    file.write_text("text,label\nrude staff,rude\nbroken,broken\n", encoding="utf-8")
    result = project.run(
        "train", "cause", str(file), "--text-column", "text", "--label-column", "label", ok=False
    )
    assert result.exit_code != 0
    assert "not labels of 'cause': broken, rude" in result.output
    assert "--map GOLD=LABEL" in result.output


def test_model_mode_classifies_with_evidence_from_the_text(project: Project) -> None:
    project.run("train", "cause", "--folds", "3")
    project.configure("model")
    text = "客服态度恶劣，一直不回电话"
    reference = project.run("add", "--text", text).stdout.split()[0]
    label = project.label(reference)
    assert label is not None
    assert (label.label, label.classifier) == ("service_quality", "ml")  # type: ignore[attr-defined]
    assert label.evidence and all(p in text for p in label.evidence)  # type: ignore[attr-defined]
    assert 0 < label.confidence <= 1  # type: ignore[attr-defined]


def test_fallback_keeps_sure_rules_and_asks_the_model_where_they_abstain(
    project: Project,
) -> None:
    project.run("train", "cause", "--folds", "3")
    project.configure("fallback", fallback_below=0.5)
    rules = make_host(Config(store=project.store), env={}).scheme("cause")
    sure = "屏幕质量太差，用了两天就坏了，严重质量问题"
    vote = rules.classify(sure)
    assert vote is not None and vote.confidence >= 0.5
    unsure = "耳机有杂音"
    assert rules.classify(unsure) is None  # the rules have nothing to say about it
    first = project.run("add", "--text", sure).stdout.split()[0]
    second = project.run("add", "--text", unsure).stdout.split()[0]
    assert project.label(first).evidence == vote.evidence  # type: ignore[attr-defined]
    answered = project.label(second)  # the model's answer where the rules had none
    assert answered is not None and answered.classifier == "ml"  # type: ignore[attr-defined]
    assert all(phrase in unsure for phrase in answered.evidence)  # type: ignore[attr-defined]


def test_blend_learns_the_rules_votes(project: Project) -> None:
    project.configure("blend")
    project.run("train", "cause", "--folds", "3")
    model = json.loads((project.root / "models" / "cause.json").read_text(encoding="utf-8"))
    assert model["rule_labels"][-1] == "(none)" and "price" in model["rule_labels"]
    reference = project.run("add", "--text", "The delivery fee is too expensive").stdout.split()[0]
    assert project.label(reference).label == "price"  # type: ignore[attr-defined]


def test_blend_mode_refuses_a_model_trained_without_the_rules(project: Project) -> None:
    project.run("train", "cause", "--folds", "3")
    project.configure("blend")
    result = project.run("add", "--text", "rude agent", ok=False)
    assert "trained without the rules' votes" in result.output
    assert "cause.json" in result.output


def test_evaluate_scores_the_configured_combination(project: Project) -> None:
    file = project.root / "gold.csv"
    with file.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "cause"])
        writer.writerows(
            [
                ("the headphones crackle", "product_quality"),
                ("nobody called me back", "service_quality"),
                ("扣费太贵", "price"),
            ]
        )
    args = (
        "evaluate",
        str(file),
        "--scheme",
        "cause",
        "--text-column",
        "text",
        "--label-column",
        "cause",
        "--format",
        "json",
    )
    project.run("train", "cause", "--folds", "3")
    rules = json.loads(project.run(*args).stdout)
    project.configure("model")
    model = json.loads(project.run(*args).stdout)
    assert rules["coverage"] < 1.0  # the rules abstain on some
    assert model["coverage"] == 1.0  # the model always answers
    assert model["n"] == rules["n"] == 3


def _gold_file(project: Project) -> Path:
    """The hand-written examples as a labelled CSV, with one row that has no text."""
    file = project.root / "gold.csv"
    with file.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "cause"])
        writer.writerows(EXAMPLES)
        writer.writerow(["", "price"])
    return file


def test_train_and_evaluate_split_a_file_into_parts_that_share_no_text(
    project: Project,
) -> None:
    file = _gold_file(project)
    columns = ("--text-column", "text", "--label-column", "cause")
    test_part = [text for text, _ in EXAMPLES if in_split(text, "test")]
    assert 0 < len(test_part) < len(EXAMPLES)
    trained = json.loads(
        project.run(
            "train",
            "cause",
            str(file),
            *columns,
            "--split",
            "train",
            "--folds",
            "2",
            "--format",
            "json",
        ).stdout
    )
    assert trained["training_set"]["size"] == len(EXAMPLES) - len(test_part)
    project.configure("model")
    scored = json.loads(
        project.run(
            "evaluate",
            str(file),
            "--scheme",
            "cause",
            *columns,
            "--split",
            "test",
            "--format",
            "json",
        ).stdout
    )
    assert scored["n"] == len(test_part)
    assert scored["skipped"] == 1  # the row without text, though --split filtered the rows


def test_evaluate_limit_keeps_the_count_of_skipped_rows(project: Project) -> None:
    file = _gold_file(project)
    scored = json.loads(
        project.run(
            "evaluate",
            str(file),
            "--scheme",
            "cause",
            "--text-column",
            "text",
            "--label-column",
            "cause",
            "--limit",
            str(len(EXAMPLES) + 1),
            "--format",
            "json",
        ).stdout
    )
    assert scored["n"] == len(EXAMPLES)
    assert scored["skipped"] == 1


def test_split_without_a_file_is_a_usage_error(project: Project) -> None:
    result = project.run("train", "cause", "--split", "train", ok=False)
    assert result.exit_code == 2
    assert "--split need PATH" in result.output


def test_train_says_when_the_model_is_not_in_use(project: Project) -> None:
    out = project.run("train", "cause", "--folds", "3").stdout
    assert 'not in use yet: [ml.cause] mode is "rules"' in out
    project.configure("fallback")
    assert "not in use yet" not in project.run("train", "cause", "--folds", "3").stdout


def test_train_says_when_the_review_threshold_cannot_hold_a_two_label_model(
    project: Project,
) -> None:
    file = _gold_file(project)
    two = ("--map", "product_quality=product_quality", "--map", "service_quality=service_quality")
    args = ("train", "cause", str(file), "--text-column", "text", "--label-column", "cause")
    project.configure("model")
    data = json.loads(project.run(*args, *two, "--folds", "2", "--format", "json").stdout)
    assert len(data["hints"]) == 2
    assert data["hints"][0].startswith("no example of price, integrity: the model can never")
    assert "learnt 2 labels" in data["hints"][1]
    assert "[review] thresholds = { cause = 0.7 }" in data["hints"][1]
    # three labels: a confidence can fall below 0.5, so the default threshold works
    (hint,) = json.loads(project.run(*args, "--folds", "2", "--format", "json").stdout)["hints"]
    assert hint.startswith("no example of integrity: the model can never give it,")
    with project.config.open("a", encoding="utf-8") as handle:
        handle.write('[review]\nthresholds = { "Cause" = 0.7 }\n')  # by its English name
    assert "learnt 2 labels" not in project.run(*args, *two, "--folds", "2").stdout


def test_configuration_errors_name_the_table(project: Project) -> None:
    project.config.write_text('[ml.nosuch]\nmode = "model"\n', encoding="utf-8")
    result = project.run("--store", project.store, "list", ok=False)
    assert "[ml.nosuch]: no classification scheme 'nosuch'" in result.output
    project.configure("smart")
    result = project.run("list", ok=False)
    expected = "ml.cause.mode: expected one of rules, model, fallback, blend, got 'smart'"
    assert f"complaintkit.toml: {expected}" in result.output


def test_a_missing_model_file_says_how_to_train_it(project: Project) -> None:
    project.configure("model")
    result = project.run("add", "--text", "rude agent", ok=False)
    assert "does not exist; train it with: complaintkit train cause" in result.output


def _modules_after(args: list[str]) -> dict[str, bool]:
    code = (
        "import sys, json\nfrom complaintkit_cli.main import cli\n"
        f"try:\n    cli({args!r}, prog_name='complaintkit')\nexcept SystemExit:\n    pass\n"
        "print('MODULES', json.dumps({m: m in sys.modules for m in ('sklearn', 'numpy', "
        "'scipy')}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.split("MODULES", 1)[1])


def test_scikit_learn_is_imported_only_to_train(project: Project) -> None:
    assert _modules_after(["--help"]) == {"sklearn": False, "numpy": False, "scipy": False}
    project.run("train", "cause", "--folds", "3")
    project.configure("model")
    config = ["--config", str(project.config)]
    # commands that do not classify import neither scikit-learn nor numpy
    assert _modules_after([*config, "list"]) == {"sklearn": False, "numpy": False, "scipy": False}
    # classifying with the model needs numpy, never scikit-learn
    found = _modules_after([*config, "add", "--text", "the agent was rude"])
    assert found == {"sklearn": False, "numpy": True, "scipy": False}
