"""Provenance is structured: labels and ceiling keys come from a Figure's fields, never its text."""
import pytest

from harness.figures import Figure, tag_of
from harness.roofline.ceilings import set_key, source_tag


def test_emulated_is_a_field_not_a_word_in_the_detail():
    quiet = Figure("x", 1.0, "GB/s", "model", "nothing said here", run_id="r1", emulated=True)
    assert quiet.tag == "emulated (model)" and source_tag(quiet) == "emulated (model)"
    chatty = Figure("x", 1.0, "GB/s", "model", "the word emulated in the text only")
    assert chatty.tag == "model" and chatty.origin == "model"


def test_a_measured_figure_needs_a_card_run():
    with pytest.raises(ValueError):
        Figure("x", 1.0, "GB/s", "measured", "no run")
    with pytest.raises(ValueError):
        Figure("x", 1.0, "GB/s", "measured", "run r1", run_id="r1", emulated=True)
    with pytest.raises(ValueError):
        Figure("x", 1.0, "GB/s", "spec", "doc", run_id="r1", emulated=True)


def test_set_keys_follow_the_figures_origin():
    meas = Figure("a", 1.0, "GB/s", "measured", "run", run_id="hw")
    emu = Figure("b", 1.0, "GB/s", "model", "run", run_id="emu", emulated=True)
    assert set_key([]) == "spec"
    assert set_key([meas]) == "measured"
    assert set_key([emu]) == "emulated"
    assert set_key([meas, emu]) == "runs"


def test_derived_figures_keep_their_provenance_and_dicts_round_trip():
    emu = Figure("per PC", 12.0, "GB/s", "model", "run emu", run_id="emu", emulated=True)
    d = emu.derived("4 PCs", 48.0, "4 x per PC")
    assert (d.run_id, d.emulated, d.source, d.unit) == ("emu", True, "model", "GB/s")
    assert Figure.from_dict(d.to_dict()) == d
    assert tag_of(d.to_dict()) == "emulated (model)"


def test_runs_make_their_figures_from_the_context_not_from_text(tmp_path):
    from harness.results.reader import load_run
    from pathlib import Path
    fixtures = Path(__file__).parent / "fixtures" / "runs"
    hw = load_run(fixtures / "20250101T000000Z-hw-memcpy")
    emu = load_run(fixtures / "20250101T010000Z-emu-memcpy")
    f_hw = hw.figure("bw", 10.0, "GB/s", "memcpy read")
    f_emu = emu.figure("bw", 10.0, "GB/s", "memcpy read")
    assert (f_hw.source, f_hw.run_id, f_hw.emulated) == ("measured", hw.run_id, False)
    assert (f_emu.source, f_emu.run_id, f_emu.emulated) == ("model", emu.run_id, True)
