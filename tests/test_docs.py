"""The generated parts of the docs are up to date: `make docs` and `make results` would write
exactly the committed files (regenerated in memory, no training, no benchmark)."""

from __future__ import annotations

import pytest

from benchmarks import results_md
from tools import gen_docs
from tools.docblocks import block_names, regenerate, rewrite_blocks

GENERATORS = {"make docs": gen_docs, "make results": results_md}


@pytest.mark.parametrize(
    ("target", "path"),
    [(target, path) for target, module in GENERATORS.items() for path in module.DOCS],
    ids=lambda x: getattr(x, "name", x),
)
def test_each_generated_doc_is_up_to_date(target, path):
    render = GENERATORS[target].renderers()
    old, new = regenerate(path, render)
    assert block_names(old), f"{path.name} has no generated block"
    assert new == old, f"{path.name} is stale: run `{target}`"


def test_every_block_has_exactly_one_generator():
    docs = {**{p: "docs" for p in gen_docs.DOCS}, **{p: "results" for p in results_md.DOCS}}
    ours = {name for m in GENERATORS.values() for name in m.renderers()}
    used = {name for path in docs for name in block_names(path.read_text(encoding="utf-8"))}
    assert used <= ours
    assert not set(gen_docs.renderers()) & set(results_md.renderers())


def test_a_block_is_rewritten_and_an_unknown_block_refused():
    text = "a\n<!-- BEGIN generated x -->\nold\n<!-- END generated x -->\nb\n"
    assert rewrite_blocks(text, {"x": lambda: "new"}, "f.md") == text.replace("old", "new")
    with pytest.raises(KeyError, match="f.md: no generator for block"):
        rewrite_blocks(text, {}, "f.md")


def test_the_readme_is_short_and_its_table_comes_from_the_results():
    readme = results_md.ROOT / "README.md"
    assert len(readme.read_text(encoding="utf-8").splitlines()) <= 250
    assert "results:summary" in block_names(readme.read_text(encoding="utf-8"))


def test_the_schema_and_reject_tables_cover_the_code():
    from textrec_data.manifest import MANIFEST_SCHEMA
    from textrec_data.records import REJECT_REASONS

    schema, rejects = gen_docs.schema_table(), gen_docs.rejects_table()
    assert all(f"| `{name}` |" in schema for name in MANIFEST_SCHEMA.names)
    assert all(f"| `{reason}` |" in rejects for reason in REJECT_REASONS)
