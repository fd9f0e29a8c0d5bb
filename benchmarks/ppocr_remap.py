"""A pretrained recognizer with its output layer cut to a smaller charset, as ``train --init``
maps it (:func:`textrec_model.transfer.init_model`: shared characters keep their rows, the
others are dropped), saved as a checkpoint that ``textrec eval`` reads, untrained.

    python -m benchmarks.ppocr_remap --source ppocr:v6-small --charset ascii --out out/v6s_ascii.pt
    python -m benchmarks.ppocr_remap --source ppocr:v6-small \\
        --charset out/ic15_train/vocab.json --out out/v6s_ic15.pt

``--charset ascii`` is the 95 printable ASCII characters; a path is a manifest's vocab.json.
"""

from __future__ import annotations

import argparse
import string

from textrec_data.charset import Charset
from textrec_model.checkpoint import save_checkpoint
from textrec_model.transfer import init_model

#: The 95 printable ASCII characters, space included.
PRINTABLE_ASCII = tuple(c for c in string.printable if c.isprintable())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="pretrained name or checkpoint")
    parser.add_argument("--charset", required=True, help="'ascii' or a vocab.json")
    parser.add_argument("--max-width", type=int, default=768)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    charset = Charset(PRINTABLE_ASCII) if args.charset == "ascii" else Charset.load(args.charset)
    model, report = init_model(args.source, charset)
    print(f"{charset.num_classes} classes: {report.line()}")
    state = {"model_args": model.model_args(), "model": model.state_dict(), "step": 0}
    state |= {"charset": charset.to_dict(), "config": {"max_width": args.max_width}}
    save_checkpoint(state, args.out)


if __name__ == "__main__":
    main()
