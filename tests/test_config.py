"""Study YAML validation: every problem gives one clear message naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from helpers.config import StudyConfigError, load_study

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["demo", "fundamentet"])
def test_shipped_studies_load(name):
    study = load_study(name)
    assert study.name == name
    assert study.outcomes.primary in study.outcomes.definitions


def test_languages_of_the_shipped_studies():
    assert load_study("demo").study.language == "en"
    assert load_study("fundamentet").study.language == "da"


def _write(tmp_path, mutate, name="demo"):
    data = yaml.safe_load((ROOT / "studies" / f"{name}.yaml").read_text())
    mutate(data)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_unknown_key_is_named(tmp_path):
    path = _write(tmp_path, lambda d: d["matching"].update(ratoi=2))
    with pytest.raises(StudyConfigError, match=r"demo\.yaml.*unknown key 'matching\.ratoi'"):
        load_study(path)


def test_wrong_type_names_key_and_value(tmp_path):
    path = _write(tmp_path, lambda d: d["matching"].update(ratio="one"))
    with pytest.raises(StudyConfigError, match=r"matching\.ratio: .*integer.*\(got 'one'\)"):
        load_study(path)


def test_bad_language(tmp_path):
    path = _write(tmp_path, lambda d: d["study"].update(language="de"))
    with pytest.raises(StudyConfigError, match=r"study\.language: .*'da' or 'en'"):
        load_study(path)


def test_min_cell_below_three_is_refused(tmp_path):
    path = _write(tmp_path, lambda d: d["study"].update(min_cell=2))
    with pytest.raises(StudyConfigError, match=r"study\.min_cell"):
        load_study(path)


def test_missing_required_section(tmp_path):
    path = _write(tmp_path, lambda d: d.pop("outcomes"))
    with pytest.raises(StudyConfigError, match=r"outcomes: required key is missing"):
        load_study(path)


def test_primary_outcome_must_be_defined(tmp_path):
    path = _write(tmp_path, lambda d: d["outcomes"].update(primary="jobs"))
    with pytest.raises(StudyConfigError, match=r"outcomes\.primary: 'jobs' is not one of"):
        load_study(path)


def test_name_must_match_file(tmp_path):
    path = _write(tmp_path, lambda d: d["study"].update(name="other"))
    with pytest.raises(StudyConfigError, match=r"must equal the file name 'demo'"):
        load_study(path)


def test_missing_input_file_names_file_and_key(tmp_path):
    def mutate(d):
        d["data"]["raw_dir"] = str(tmp_path / "nothing")

    study = load_study(_write(tmp_path, mutate))
    with pytest.raises(StudyConfigError, match=r"data\.dream\.path: file .*dream\.csv does not exist"):
        study.check_inputs()


def test_unknown_study_lists_known_ones():
    with pytest.raises(StudyConfigError, match=r"known studies: .*demo"):
        load_study("no_such_study")


def test_not_yaml(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text("study: [unclosed\n")
    with pytest.raises(StudyConfigError, match=r"not valid YAML"):
        load_study(path)


def test_study_yaml_reference_is_current():
    from helpers.config import schema_markdown

    current = (ROOT / "docs" / "study-yaml.md").read_text(encoding="utf-8")
    assert current == schema_markdown(), "docs/study-yaml.md is stale: run `python -m helpers.config --docs`"
