"""The pathway data files: loaded and validated; sources distinct; gaps documented; the loader
rejects inconsistent data with a message that names what to fix."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from assistant.pathway import PathwayDataError, evaluate
from assistant.pathway.models import Condition, PathwayBook
from assistant.resources import load_pathway_book

DATA = Path(__file__).resolve().parents[3] / "assistant" / "pathway" / "data"
DOC = Path(__file__).resolve().parents[3] / "docs" / "PATHWAY.md"


def test_the_book_covers_the_required_branches(book: PathwayBook) -> None:
    ids = {n.id for n in book.nodes()}
    for required in [
        "b_phpos/diagnosis",
        "b_phpos/cr/mrd_pos",
        "b_phpos/cr/mrd_neg",
        "b_phpos/rr",
        "b_phneg/diagnosis/aya",
        "b_phneg/diagnosis/adult_fit",
        "b_phneg/diagnosis/older_or_unfit",
        "b_phneg/cr/mrd_pos",
        "b_phneg/cr/mrd_neg",
        "b_phneg/rr",
        "b_phlike/rr",
        "t_all/diagnosis/fit",
        "t_all/diagnosis/older_or_unfit",
        "t_all/cr/mrd_pos_or_high_risk",
        "t_all/cr/mrd_neg",
        "t_all/rr",
    ]:
        assert required in ids, required
    sources = {o.source for _, o in book.options()}
    assert sources == {"schistosite", "csco2024", "fda"}
    levels = {o.level for _, o in book.options() if o.level}
    assert levels == {"Level I", "Level II"}
    assert all(o.source == "csco2024" for _, o in book.options() if o.level)


def test_label_constraints_apply_to_every_option_naming_the_therapy(book: PathwayBook) -> None:
    for constraint in book.constraints:
        naming = [o for _, o in book.options() if constraint.concept in o.concepts]
        assert naming, constraint.concept
        for option in naming:
            present = [r.model_dump() for r in option.requires]
            for req in constraint.requires:
                assert req.model_dump() in present, (option.id, req.text)
        # governed: class options (any CAR-T, any chemo) do not cover the constrained product
        assert constraint.concept in book.governed


def test_every_gap_is_used_and_documented(book: PathwayBook) -> None:
    used = {ref.gap for n in book.nodes() for ref in n.notes}
    assert used == set(book.gaps)
    doc = DOC.read_text(encoding="utf-8")
    for gap in book.gaps.values():
        assert f"`{gap.id}`" in doc, f"docs/PATHWAY.md does not document gap {gap.id}"


def test_gap_notes_reach_the_output(book: PathwayBook) -> None:
    notes = evaluate({"age": 65, "lineage": "B", "ph": "negative", "phase": "diagnosis", "fit": True}, book).notes
    assert any("age-65" in n and "≥ 65" in n for n in notes)


def test_condition_forms_are_validated() -> None:
    with pytest.raises(ValidationError, match="unknown patient field"):
        Condition.model_validate({"field": "agee", "ge": 1})
    with pytest.raises(ValidationError, match="not valid"):
        Condition.model_validate({"field": "ph", "eq": "maybe"})
    with pytest.raises(ValidationError, match="numeric"):
        Condition.model_validate({"field": "lineage", "ge": 1})
    with pytest.raises(ValidationError, match="exactly one"):
        Condition.model_validate({"field": "age", "ge": 1, "lt": 3})
    cond = Condition.model_validate({"any": [{"field": "age", "ge": 65}, {"field": "fit", "eq": False}]})
    assert cond.describe() == "age ≥ 65 or fit = false"
    assert cond.fhirpath() == "(age >= 65) or (fit = false)"


def _broken(tmp_path: Path, name: str, edit: Callable[[dict], None]) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(DATA, folder)
    data = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
    edit(data)
    (folder / name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        (
            "csco-2024.yaml",
            lambda d: d["attachments"][0].update(at=["b_phneg/nowhere"]),
            "unknown node 'b_phneg/nowhere'",
        ),
        ("csco-2024.yaml", lambda d: d["attachments"][0].update(concepts=["c_unobtainium"]), "unknown concept"),
        ("csco-2024.yaml", lambda d: d["attachments"][0].update(source="nejm"), "unknown source 'nejm'"),
        (
            "fda-labels.yaml",
            lambda d: d["constraints"][0]["requires"][0].update(when={"field": "ag", "ge": 18}),
            "unknown patient field",
        ),
        ("schistosite.yaml", lambda d: d["root"]["children"][0].pop("when"), "needs 'when'"),
        ("schistosite.yaml", lambda d: d["root"]["children"][0].update(notes=[{"gap": "nope"}]), "unknown gap 'nope'"),
    ],
)
def test_the_loader_names_what_to_fix(tmp_path: Path, name: str, edit: Callable[[dict], None], message: str) -> None:
    folder = _broken(tmp_path, name, edit)
    with pytest.raises(PathwayDataError, match=message):
        load_pathway_book(folder)


def test_the_packaged_data_loads_from_a_folder_copy(tmp_path: Path) -> None:
    shutil.copytree(DATA, tmp_path / "data")
    book = load_pathway_book(tmp_path / "data")
    assert len(book.nodes()) == 36
