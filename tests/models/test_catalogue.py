"""The model catalogue: every shipped spec loads, has its metadata and fits."""

from __future__ import annotations

from pathlib import Path

import pytest

import csisem
from csisem.datasets import simulate
from csisem.errors import SpecError

CATALOGUE = ["acsi", "ccsi", "csi6", "ecsi", "epsi", "ncsb", "scsb", "servqual"]
SCALES = {"servqual": (1, 7)}  # SERVQUAL statements are rated on a 7-point scale


def test_list_models_describes_the_catalogue() -> None:
    table = csisem.list_models()
    assert list(table["name"]) == CATALOGUE
    assert table["citation"].str.len().gt(20).all()
    assert table.set_index("name").loc["ecsi", "paths"] == 12


@pytest.mark.parametrize("name", CATALOGUE)
def test_catalogue_spec_has_wording_and_fits_simulated_data(name: str) -> None:
    model = csisem.load_model(name)
    assert model.citation
    assert model.title
    assert model.scale == SCALES.get(name, (1, 10))
    assert all(i.wording for c in model.constructs for i in c.indicators)
    assert all(c.label for c in model.constructs)
    data = simulate(model, 1000, seed=11, on_scale=True)
    result = csisem.fit(model, data)
    assert result.converged
    assert (result.paths["estimate"] > 0).all()  # every population path is positive


def test_ecsi_structure_is_tenenhaus_2005() -> None:
    m = csisem.load_model("ecsi")
    assert {(p.source, p.target) for p in m.paths} == {
        ("IMAG", "CUEX"), ("IMAG", "CUSA"), ("IMAG", "CUSL"), ("CUEX", "PERQ"),
        ("CUEX", "PERV"), ("CUEX", "CUSA"), ("PERQ", "PERV"), ("PERQ", "CUSA"),
        ("PERV", "CUSA"), ("CUSA", "CUSCO"), ("CUSA", "CUSL"), ("CUSCO", "CUSL")}
    assert [len(c.indicators) for c in m.constructs] == [5, 3, 7, 2, 3, 1, 3]


def test_acsi_and_scsb_structures() -> None:
    acsi = csisem.load_model("acsi")
    assert {(p.source, p.target) for p in acsi.paths} == {
        ("CUEX", "PERQ"), ("CUEX", "PERV"), ("CUEX", "ACSI"), ("PERQ", "PERV"),
        ("PERQ", "ACSI"), ("PERV", "ACSI"), ("ACSI", "COMP"), ("ACSI", "LOY"),
        ("COMP", "LOY")}
    scsb = csisem.load_model("scsb")
    assert {(p.source, p.target) for p in scsb.paths} == {
        ("EXP", "PERF"), ("EXP", "SAT"), ("PERF", "SAT"), ("SAT", "VOICE"), ("SAT", "LOY"),
        ("VOICE", "LOY")}


def _structure(name: str) -> set[tuple[str, str]]:
    return {(p.source, p.target) for p in csisem.load_model(name).paths}


def test_epsi_is_the_original_ecsi_without_complaints() -> None:
    assert _structure("epsi") == {
        ("IMAG", "EXPE"), ("IMAG", "CUSA"), ("IMAG", "CUSL"), ("EXPE", "PQHW"),
        ("EXPE", "PQSW"), ("EXPE", "PERV"), ("EXPE", "CUSA"), ("PQHW", "PERV"),
        ("PQHW", "CUSA"), ("PQSW", "PERV"), ("PQSW", "CUSA"), ("PERV", "CUSA"),
        ("CUSA", "CUSL")}
    m = csisem.load_model("epsi")
    assert [len(c.indicators) for c in m.constructs] == [5, 3, 3, 3, 2, 3, 3]


def test_ncsb_has_image_and_commitment_as_consequences_of_satisfaction() -> None:
    assert _structure("ncsb") == {
        ("PRODQ", "SAT"), ("SERVQ", "SAT"), ("PRICE", "SAT"), ("COMPH", "SAT"),
        ("SAT", "IMAGE"), ("SAT", "AFFCOM"), ("SAT", "CALCOM"), ("SAT", "LOY"),
        ("PRICE", "LOY"), ("COMPH", "LOY"), ("IMAGE", "LOY"), ("AFFCOM", "LOY"),
        ("CALCOM", "LOY")}
    labels = {c.label for c in csisem.load_model("ncsb").constructs}
    assert {"Price (price index)", "Affective commitment", "Calculative commitment"} <= labels


def test_ccsi_has_six_constructs_and_eleven_paths() -> None:
    assert _structure("ccsi") == {
        ("IMAG", "EXPQ"), ("IMAG", "PERQ"), ("IMAG", "CUSA"), ("IMAG", "CUSL"),
        ("EXPQ", "PERQ"), ("EXPQ", "PERV"), ("EXPQ", "CUSA"), ("PERQ", "PERV"),
        ("PERQ", "CUSA"), ("PERV", "CUSA"), ("CUSA", "CUSL")}


def test_csi6_is_the_textbook_indicator_system_on_the_acsi_structure() -> None:
    assert _structure("csi6") == {
        ("CUEX", "PERQ"), ("CUEX", "PERV"), ("CUEX", "CUSA"), ("PERQ", "PERV"),
        ("PERQ", "CUSA"), ("PERV", "CUSA"), ("CUSA", "COMP"), ("CUSA", "LOY"),
        ("COMP", "LOY")}
    m = csisem.load_model("csi6")
    assert [(c.name, len(c.indicators)) for c in m.constructs] == [
        ("CUEX", 3), ("PERQ", 3), ("PERV", 3), ("CUSA", 2), ("COMP", 2), ("LOY", 3)]


def test_servqual_template_pairs_22_items_on_the_five_rater_dimensions() -> None:
    m = csisem.load_model("servqual")
    perceptions = {"TAN": 4, "REL": 5, "RES": 4, "ASS": 4, "EMP": 5}
    sizes = {c.name: len(c.indicators) for c in m.constructs}
    assert {k: sizes[k] for k in perceptions} == perceptions
    assert {k: sizes[f"{k}_E"] for k in perceptions} == perceptions
    assert [i for c in perceptions for i in m.construct(c).indicator_names] == [
        f"P{k}" for k in range(1, 23)]
    assert [i for c in perceptions for i in m.construct(f"{c}_E").indicator_names] == [
        f"E{k}" for k in range(1, 23)]
    assert _structure("servqual") == {(f"{c}_E", c) for c in perceptions} | {
        (c, "OSQ") for c in perceptions}
    assert "paraphrase" in (m.description or "")


def test_load_model_accepts_names_paths_and_models(tmp_path: Path) -> None:
    ecsi = csisem.load_model("ECSI")
    f = tmp_path / "mine.yaml"
    f.write_text(ecsi.to_yaml(), encoding="utf-8")
    assert csisem.load_model(f) == ecsi
    assert csisem.load_model(str(f)) == ecsi
    assert csisem.load_model(ecsi) is ecsi


def test_unknown_catalogue_name_suggests() -> None:
    with pytest.raises(SpecError, match=r"'ecsii' is neither a catalogue model nor a spec "
                                        r"file. Did you mean 'ecsi'\? Catalogue: acsi, ccsi, "
                                        r"csi6, ecsi, epsi, ncsb, scsb, servqual;"):
        csisem.load_model("ecsii")


def test_missing_spec_file_and_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"Spec file '.*none\.yaml' does not exist"):
        csisem.load_model(tmp_path / "none.yaml")
    odd = tmp_path / "model.json"
    odd.write_text("{}", encoding="utf-8")
    with pytest.raises(SpecError, match=r"Cannot tell the format of spec file"):
        csisem.load_model(odd)
