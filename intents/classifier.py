"""A small spaCy TextCategorizer that votes beside the parser's rules.

Trained on the train split of the labelled corpus (tests/data/utterances.jsonl),
it knows phrasings no rule names ("who we sold 4471 to"). Its input is the
question with lot codes and dates replaced by placeholders, so it learns how
people ask, not which lots they ask about. The trained model ships in
``intents/textcat/``; rebuild it after changing the corpus:

    python -m intents.classifier tests/data/utterances.jsonl
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

from intents.model import INTENTS

__all__ = ["MODEL_DIR", "Classifier", "classifier", "features", "train"]

MODEL_DIR = Path(__file__).resolve().parent / "textcat"
EPOCHS = 15
SEED = 0


def features(doc: Doc) -> str:
    """The words the classifier sees: lower case, lot codes and dates as placeholders.

    Example:
        >>> from intents.text import _base_pipeline
        >>> features(_base_pipeline()("Who got lot 4471 since Monday?"))
        'who got lot LOTCODE since DATEWORD ?'
    """
    words = []
    for token in doc:
        if token.ent_type_ == "LOT":
            words.append("LOTCODE")
        elif token.ent_type_ == "DATE":
            words.append("DATEWORD")
        else:
            words.append(token.lower_)
    return " ".join(words)


class Classifier:
    """Intent probabilities for a question's features."""

    def __init__(self, nlp: Language) -> None:
        self.nlp = nlp

    def cats(self, text: str) -> Mapping[str, float]:
        return self.nlp(text).cats


@lru_cache(maxsize=1)
def classifier() -> Classifier | None:
    """The shipped model, or None where it has not been built."""
    if not (MODEL_DIR / "meta.json").exists():
        return None
    return Classifier(spacy.load(MODEL_DIR))


def train(examples: Iterable[tuple[str, str]]) -> Language:
    """A TextCategorizer (bag of words and word pairs) trained on (features, intent) pairs."""
    spacy.util.fix_random_seed(SEED)
    nlp = spacy.blank("en")
    textcat = nlp.add_pipe(
        "textcat",
        config={
            "model": {
                "@architectures": "spacy.TextCatBOW.v3",
                "exclusive_classes": True,
                "ngram_size": 2,
                "no_output_layer": False,
                "length": 2**14,
            }
        },
    )
    for intent in INTENTS:
        textcat.add_label(intent)  # type: ignore[attr-defined]
    data = [
        Example.from_dict(nlp.make_doc(text), {"cats": {i: float(i == intent) for i in INTENTS}})
        for text, intent in examples
    ]
    optimizer = nlp.initialize(lambda: data)
    shuffle = random.Random(SEED)
    for _ in range(EPOCHS):
        shuffle.shuffle(data)
        for batch in spacy.util.minibatch(data, 16):
            nlp.update(batch, sgd=optimizer, drop=0.2)
    return nlp


def main(corpus: str) -> None:
    from intents.text import _base_pipeline, _clean

    base = _base_pipeline()
    rows = [json.loads(line) for line in Path(corpus).read_text(encoding="utf-8").splitlines()]
    examples = [
        (features(base(_clean(row["text"]))), row["intent"])
        for row in rows
        if row and row["split"] == "train"
    ]
    nlp = train(examples)
    nlp.to_disk(MODEL_DIR)
    print(f"trained on {len(examples)} questions; model in {MODEL_DIR}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/utterances.jsonl")
