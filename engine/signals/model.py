"""Optional transformer distress classifier, loaded only from a local directory.

`DistressModel.load(path)` builds a `transformers` text-classification pipeline from a model
saved with `save_pretrained` (model + tokenizer) in `path`. Nothing is ever downloaded: the
path must be an existing directory and every `from_pretrained` call uses `local_files_only=True`.

`score(text)` is the probability mass of the *distress labels*: the sum of the softmax scores of
every label whose lowercased name is in `distress_labels` (default `DEFAULT_DISTRESS_LABELS`:
"negative", "distress", "label_1", "sadness", "fear"). Summing lets both binary sentiment models
(NEGATIVE/POSITIVE, LABEL_0/LABEL_1) and emotion models (sadness + fear) be used unchanged. A model
with none of those labels is rejected at load time.

The pipeline is built once; `score` is serialised with a lock so one instance can be shared by
request threads. It is CPU-only work (device=-1): call it from a worker thread, not an event loop.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

DEFAULT_DISTRESS_LABELS: frozenset[str] = frozenset({"negative", "distress", "label_1", "sadness", "fear"})
MAX_CHARS = 2000  # cut very long messages before tokenising
MAX_TOKENS = 256  # and truncate the token sequence (never beyond the model's position limit)


class DistressModel:
    def __init__(self, pipeline: Any, distress_labels: Iterable[str], max_tokens: int) -> None:
        self._pipeline = pipeline
        self.distress_labels = frozenset(label.lower() for label in distress_labels)
        self.max_tokens = max_tokens
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path, distress_labels: Iterable[str] = DEFAULT_DISTRESS_LABELS) -> DistressModel:
        """Load a saved sequence-classification model + tokenizer from the local directory `path`."""
        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"distress model directory not found: {path}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        # imported lazily: lexicon-only deployments never pay for torch/transformers
        from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

        model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model.eval()
        labels = {str(name).lower() for name in model.config.id2label.values()}
        wanted = frozenset(label.lower() for label in distress_labels)
        if not labels & wanted:
            raise ValueError(f"model labels {sorted(labels)} contain none of the distress labels {sorted(wanted)}")
        limits = [MAX_TOKENS, int(getattr(model.config, "max_position_embeddings", MAX_TOKENS) or MAX_TOKENS)]
        if 0 < int(tokenizer.model_max_length) < 100_000:
            limits.append(int(tokenizer.model_max_length))
        pipe = pipeline("text-classification", model=model, tokenizer=tokenizer, top_k=None, device=-1)
        return cls(pipe, wanted, min(limits))

    def label_scores(self, text: str) -> dict[str, float]:
        """Softmax score per (lowercased) label."""
        import torch

        with self._lock, torch.inference_mode():
            result = self._pipeline(text[:MAX_CHARS], truncation=True, max_length=self.max_tokens)
        # a single string gives [{label, score}, ...]; some versions wrap it once more
        if result and isinstance(result[0], list):
            result = result[0]
        return {str(item["label"]).lower(): float(item["score"]) for item in result}

    def score(self, text: str) -> float:
        """Probability (0..1) that `text` expresses distress; 0.0 for blank text."""
        if not text or not text.strip():
            return 0.0
        scores = self.label_scores(text)
        return min(1.0, sum(p for label, p in scores.items() if label in self.distress_labels))
