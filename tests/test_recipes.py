"""Recipe files (`textrec train --config`, configs/*.toml): the same run as the flags they stand
for, flags given on the command line win, and a bad file is one line naming it, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from manifest_factory import write_manifest

from pipelines.cli import main
from pipelines.train import command
from textrec_model.config import TrainConfig, config_with_recipe, read_recipe

ROOT = Path(__file__).resolve().parents[1]


def config_from_args(args: list[str]) -> TrainConfig:
    """The TrainConfig `textrec train ARGS` runs, as the command makes it."""
    # the group's context settings, as under `textrec` (click caches the help option it makes)
    ctx = command.make_context("train", list(args), **main.context_settings)
    params = dict(ctx.params)
    recipe, _ = params.pop("recipe"), params.pop("quiet")
    given = {k for k in params if ctx.get_parameter_source(k).name != "DEFAULT"}
    return config_with_recipe(params, given, recipe)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_recipe_file_gives_the_config_of_the_equivalent_flags(tmp_path):
    recipe = write(
        tmp_path / "r.toml",
        'manifests = ["a.parquet", "b.parquet", "b.parquet"]\nout = "run"\nmax_steps = 700\n'
        "lr = 1e-4\nwarmup_steps = 50\nbatch_size = 32\nmax_width = 384\nepochs = 3\n"
        'augment = false\ninit = "ppocr:v4"\nfreeze = "backbone:10"\n',
    )
    flags = "--manifest a.parquet --manifest b.parquet --manifest b.parquet --out run "
    flags += "--max-steps 700 --lr 1e-4 --warmup-steps 50 --batch-size 32 --max-width 384 "
    flags += "--epochs 3 --no-augment --init ppocr:v4 --freeze backbone:10"
    from_file = config_from_args(["--config", str(recipe)])
    assert from_file == config_from_args(flags.split())
    assert from_file.manifests == ("a.parquet", "b.parquet", "b.parquet")
    assert from_file.lr == 1e-4 and not from_file.augment and from_file.epochs == 3.0


def test_flags_given_override_the_file_and_defaults_do_not(tmp_path):
    recipe = write(tmp_path / "r.toml", "max_steps = 2400\nlr = 2e-3\nbatch_size = 16\nseed = 5\n")
    config = config_from_args(
        ["--config", str(recipe), "--manifest", "m", "--out", "o", "--lr", "1e-3", "--seed", "0"]
    )
    # --lr and --seed are given (even at their default values) and win; the rest is the file's
    assert (config.lr, config.seed, config.max_steps, config.batch_size) == (1e-3, 0, 2400, 16)
    assert config.manifests == ("m",)
    # manifests given on the command line replace the file's list
    recipe = write(tmp_path / "m.toml", 'manifests = ["a", "b"]\nout = "o"\n')
    assert config_from_args(["--config", str(recipe), "--manifest", "c"]).manifests == ("c",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max_step = 10\n", "unknown key 'max_step'"),
        ('max_steps = "10"\n', "max_steps: expected an integer, got '10'"),
        ("max_steps = 1.5\n", "max_steps: expected an integer, got 1.5"),
        ("augment = 1\n", "augment: expected true or false, got 1"),
        ("lr = true\n", "lr: expected a number, got True"),
        ('manifests = "a"\n', "manifests: expected a list of strings, got 'a'"),
        ("manifests = [1]\n", "manifests: expected a list of strings, got [1]"),
        ("lr = \n", "not a valid TOML file"),
        ("lr = 2.0\n", "--lr 2.0"),  # the config's own bounds, as for the flag
    ],
)
def test_a_bad_recipe_is_one_line_naming_the_file_and_key_exit_2(tmp_path, text, message):
    recipe = write(tmp_path / "bad.toml", text)
    result = CliRunner().invoke(
        main, ["train", "--config", str(recipe), "--manifest", "m", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
    if "--lr" not in message:
        assert str(recipe) in lines[0]
    assert not (tmp_path / "o").exists()


def test_a_missing_recipe_or_out_is_one_line(tmp_path):
    for args, message in [
        (["--config", str(tmp_path / "none.toml"), "--manifest", "m", "--out", "o"], "none.toml"),
        (["--manifest", "m"], "--out"),
    ]:
        result = CliRunner().invoke(main, ["train", *args])
        assert result.exit_code == 2 and message in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_every_shipped_recipe_reads_as_a_config():
    recipes = sorted((ROOT / "configs").glob("*.toml"))
    assert recipes
    for recipe in recipes:
        values = read_recipe(recipe)
        TrainConfig(**{"manifests": ("m",), "out": "o", **values})


def test_the_run_records_the_effective_config(tmp_path):
    manifest = write_manifest(tmp_path / "m.parquet", 40)
    recipe = write(
        tmp_path / "r.toml", "max_steps = 1\neval_every = 1\nbatch_size = 4\nlr = 5e-3\n"
    )
    out = tmp_path / "run"
    args = ["train", "--config", str(recipe), "--manifest", str(manifest), "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--batch-size", "8", "--workers", "0", "--quiet"])
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "config.json").read_text())
    assert (saved["max_steps"], saved["batch_size"], saved["lr"]) == (1, 8, 5e-3)


def test_make_trains_default_recipe_is_the_flags_it_replaced():
    """`make train` ran `--max-steps 2400 --lr 2e-3 --eval-every 300`; its recipe file is that."""
    common = ["--manifest", "m", "--out", "o"]
    flags = ["--max-steps", "2400", "--lr", "2e-3", "--eval-every", "300"]
    recipe = ["--config", str(ROOT / "configs" / "default.toml")]
    assert config_from_args([*common, *recipe]) == config_from_args([*common, *flags])
