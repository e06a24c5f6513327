"""The model catalogue: every shipped spec loads, has its metadata and fits."""

from __future__ import annotations

from pathlib import Path

import pytest

import csisem
from csisem.datasets import simulate
from csisem.errors import SpecError

CATALOGUE = ["acsi", "ecsi", "scsb"]


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
    assert model.scale == (1, 10)
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


def test_load_model_accepts_names_paths_and_models(tmp_path: Path) -> None:
    ecsi = csisem.load_model("ECSI")
    f = tmp_path / "mine.yaml"
    f.write_text(ecsi.to_yaml(), encoding="utf-8")
    assert csisem.load_model(f) == ecsi
    assert csisem.load_model(str(f)) == ecsi
    assert csisem.load_model(ecsi) is ecsi


def test_unknown_catalogue_name_suggests() -> None:
    with pytest.raises(SpecError, match=r"'ecsii' is neither a catalogue model nor a spec "
                                        r"file. Did you mean 'ecsi'\? Catalogue: acsi, ecsi, "
                                        r"scsb"):
        csisem.load_model("ecsii")


def test_missing_spec_file_and_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"Spec file '.*none\.yaml' does not exist"):
        csisem.load_model(tmp_path / "none.yaml")
    odd = tmp_path / "model.json"
    odd.write_text("{}", encoding="utf-8")
    with pytest.raises(SpecError, match=r"Cannot tell the format of spec file"):
        csisem.load_model(odd)
