"""Whitespace tokenizer that folds case and diacritics in token text.

Debtors type "hur mycket ar skulden", "nao consigo", "mochte zahlen": folding makes those the
same features as the correctly spelled training examples. Offsets are untouched, so entity
spans still point into the original message text.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

_GERMAN = str.maketrans({"ß": "ss"})


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_GERMAN))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class FoldingWhitespaceTokenizer(WhitespaceTokenizer):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return WhitespaceTokenizer.get_default_config()

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        tokens = super().tokenize(message, attribute)
        for token in tokens:
            token.text = fold(token.text)
            token.lemma = token.text
        return tokens
