"""`make corpus`: the most frequent English words from wordfreq (Apache-2.0 code, CC BY-SA 4.0
data; Speer et al.) as a `textrec synth --corpus` file of 'word<TAB>count' lines.

    python tools/wordfreq_corpus.py OUT.tsv [N]

Counts are frequencies per billion words. Only words of letters (with inner apostrophes or
hyphens) are kept: numbers and the like come from textrec's own generators.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from wordfreq import top_n_list, word_frequency

_WORD = re.compile(r"^[a-z]+(?:['-][a-z]+)*$")


def main() -> None:
    out, n = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    words = [w for w in top_n_list("en", n, wordlist="large") if _WORD.match(w)]
    lines = [f"{w}\t{word_frequency(w, 'en', wordlist='large') * 1e9:.1f}\n" for w in words]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    tmp.replace(out)
    print(f"make corpus: {len(lines)} words in {out}")


if __name__ == "__main__":
    main()
