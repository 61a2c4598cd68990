"""Vulnerability signals: cue lexicon per locale, scorer rules, and a real (tiny, locally
trained) transformer distress model loaded from disk — nothing is downloaded."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.signals.lexicon import CATEGORIES, compile_cue, lexicon_for, match_cues, normalize
from engine.signals.service import (
    MODE_LEXICON,
    MODE_MODEL,
    PRIORITY_CUES,
    PRIORITY_HIGH_DISTRESS,
    PRIORITY_NONE,
    PRIORITY_SELF_HARM,
    SignalScorer,
)

POSITIVES: dict[str, dict[str, str]] = {
    "en": {
        "self_harm": "Honestly I want to die, I can't do this",
        "bereavement": "My mum passed away last month",
        "illness": "I've been off sick with depression",
        "job_loss": "I was made redundant in March",
        "financial_distress": "I can't afford food for the kids",
        "other_vulnerability": "my partner hits me when I ask about money",
    },
    "sv": {
        "self_harm": "jag vill inte leva längre",
        "bereavement": "min pappa gick bort i förra veckan",
        "illness": "jag är sjukskriven för utmattning",
        "job_loss": "jag blev av med jobbet",
        "financial_distress": "har inte råd med mat",
        "other_vulnerability": "jag är gravid i åttonde månaden",
    },
    "de": {
        "self_harm": "ich will nicht mehr leben",
        "bereavement": "mein Vater ist gestorben",
        "illness": "ich bin krankgeschrieben wegen Depressionen",
        "job_loss": "ich bin seit Mai arbeitslos",
        "financial_distress": "ich habe kein Geld für Essen",
        "other_vulnerability": "mein Mann schlägt mich",
    },
    "pt-BR": {
        "self_harm": "quero morrer",
        "bereavement": "minha mãe faleceu semana passada",
        "illness": "estou internada no hospital",
        "job_loss": "fui demitido mês passado",
        "financial_distress": "estou passando fome",
        "other_vulnerability": "estou grávida de 7 meses",
    },
}

NEGATIVES: list[tuple[str, str]] = [
    ("en", "I'll kill it at work today"),
    ("en", "my phone died"),
    ("en", "I'm sick of these letters, how much do I owe?"),
    ("en", "I'm 90 days late, sorry"),
    ("en", "the car broke down so I paid late"),
    ("sv", "hur mycket ar skulden"),
    ("sv", "hur mycket är skulden?"),
    ("sv", "det är sjukt dyrt"),
    ("sv", "mobilen dog igår"),
    ("de", "das bringt mich um"),
    ("de", "mein Akku ist gestorben"),
    ("de", "ich habe den Vertrag gekündigt"),
    ("de", "er sucht die Rechnung"),
    ("pt-BR", "minha mãe vai me matar"),
    ("pt-BR", "meu celular morreu"),
    ("pt-BR", "quero parcelar a dívida"),
]


@pytest.mark.parametrize("locale", sorted(POSITIVES))
@pytest.mark.parametrize("category", CATEGORIES)
def test_positive_cue_per_category_and_locale(locale: str, category: str) -> None:
    text = POSITIVES[locale][category]
    found = match_cues(text, locale)
    assert category in found, (text, found)
    assert all(found[category]), found


@pytest.mark.parametrize(("locale", "text"), NEGATIVES)
def test_everyday_phrases_are_not_cues(locale: str, text: str) -> None:
    assert match_cues(text, locale) == {}


def test_every_locale_has_substantial_lexicon() -> None:
    for locale in POSITIVES:
        lexicon = lexicon_for(locale)
        for category in CATEGORIES:
            assert len(lexicon.patterns[category]) >= 12, (locale, category)


def test_folding_without_diacritics_and_punctuation() -> None:
    assert normalize("Jag VILL inte leva längre…") == "jag vill inte leva langre"
    assert normalize("I can’t go on—anymore") == "i cant go on anymore"
    assert normalize("Straße") == "strasse"
    for locale, with_marks, without in [
        ("sv", "jag vill inte leva längre", "jag vill inte leva langre"),
        ("de", "ich möchte nicht mehr leben", "ich mochte nicht mehr leben"),
        ("pt-BR", "não quero mais viver", "nao quero mais viver"),
        ("pt-BR", "tô passando fome", "to passando fome"),
    ]:
        assert match_cues(with_marks, locale) == match_cues(without, locale) != {}


def test_word_boundaries_and_cue_syntax() -> None:
    assert compile_cue("suicid*").search("thinking of suicide") is not None
    assert compile_cue("ill").search("still") is None
    optional = compile_cue("ta mitt (eget)? liv")
    assert optional.search("ta mitt liv") and optional.search("ta mitt eget liv")
    assert match_cues("He's addicted to gambling, I'm also pregnant", "en")["other_vulnerability"]


def test_self_harm_matched_in_any_locale_and_unknown_locale() -> None:
    assert "self_harm" in match_cues("I want to kill myself", "sv")
    assert "self_harm" in match_cues("quero morrer", None)
    assert "self_harm" in match_cues("vou tirar minha vida", "xx")


def test_lexicon_only_scorer_rules() -> None:
    scorer = SignalScorer.from_settings(None)
    assert scorer.mode == MODE_LEXICON

    crisis = scorer.assess("jag vill inte leva längre", "sv-SE")
    assert crisis.immediate_human and crisis.vulnerable
    assert crisis.priority == PRIORITY_SELF_HARM
    assert crisis.distress is None
    assert crisis.reason and "self_harm" in crisis.reason

    bereaved = scorer.assess("mein Vater ist gestorben und ich bin arbeitslos", "de")
    assert bereaved.vulnerable and not bereaved.immediate_human
    assert bereaved.priority == PRIORITY_CUES
    assert set(bereaved.cues) == {"bereavement", "job_loss"}

    plain = scorer.assess("hur mycket är skulden?", "sv")
    assert not plain.vulnerable and not plain.immediate_human
    assert plain.priority == PRIORITY_NONE and plain.reason is None and plain.cues == {}


def test_missing_model_dir_falls_back_to_lexicon_only(tmp_path: Path) -> None:
    scorer = SignalScorer.from_settings(tmp_path / "does-not-exist")
    assert scorer.mode == MODE_LEXICON
    assert scorer.assess("I want to die", "en").immediate_human


# -- the real model path: a tiny BERT trained here, saved to disk, loaded back -------------------

DISTRESS_WORDS = ["hopeless", "desperate", "scared", "crying", "alone", "terrified", "panic", "miserable"]
NEUTRAL_WORDS = ["invoice", "payment", "date", "reference", "account", "monthly", "plan", "thanks"]
FILLER = ["i", "am", "so", "the", "please", "my", "is", "about", "what", "feel", "send", "check"]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")

    torch.manual_seed(0)
    directory = tmp_path_factory.mktemp("distress-model")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *DISTRESS_WORDS, *NEUTRAL_WORDS, *FILLER]
    vocab_file = directory / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(vocab_file), model_max_length=64)

    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        id2label={0: "neutral", 1: "distress"},
        label2id={"neutral": 0, "distress": 1},
    )
    model = transformers.BertForSequenceClassification(config)

    examples = [
        (f"i feel so {a} and {b}", 1)
        for a, b in zip(DISTRESS_WORDS, DISTRESS_WORDS[1:] + DISTRESS_WORDS[:1], strict=True)
    ]
    examples += [(f"i am {w}", 1) for w in DISTRESS_WORDS[:3]]
    examples += [
        (f"please check the {a} {b}", 0)
        for a, b in zip(NEUTRAL_WORDS, NEUTRAL_WORDS[1:] + NEUTRAL_WORDS[:1], strict=True)
    ]
    examples += [(f"what is my {w}", 0) for w in NEUTRAL_WORDS[:3]]
    batch = tokenizer([t for t, _ in examples], padding=True, return_tensors="pt")
    labels = torch.tensor([y for _, y in examples])

    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    # Tensors this small train ~10x cheaper on one thread: a thread pool spins on each tiny op,
    # which costs most when the cores are busy (the suite runs in parallel).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model.train()
        for _ in range(60):
            optimizer.zero_grad()
            loss = model(**batch, labels=labels).loss
            loss.backward()
            optimizer.step()
        model.eval()
    finally:
        torch.set_num_threads(threads)

    out = directory / "model"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def test_distress_model_scores_from_local_directory(tiny_model_dir: Path) -> None:
    from engine.signals.model import DistressModel

    model = DistressModel.load(tiny_model_dir)
    assert model.score("i feel hopeless and scared and alone") > 0.5
    assert model.score("please check the payment date") < 0.5
    assert model.score("   ") == 0.0
    # long input is truncated instead of overflowing the 64 position embeddings
    assert 0.0 <= model.score("hopeless " * 500) <= 1.0
    assert set(model.label_scores("thanks")) == {"neutral", "distress"}


def test_scorer_with_model(tiny_model_dir: Path) -> None:
    scorer = SignalScorer.from_settings(tiny_model_dir)
    assert scorer.mode == MODE_MODEL

    distressed = scorer.assess("i feel so desperate and terrified and crying", "en")
    assert distressed.distress is not None and distressed.distress > 0.5
    neutral = scorer.assess("please check the invoice reference", "en")
    assert neutral.distress is not None and neutral.distress < 0.5
    assert neutral.priority == PRIORITY_NONE and not neutral.vulnerable

    crisis = scorer.assess("I want to kill myself", "en")
    assert crisis.immediate_human and crisis.priority == PRIORITY_SELF_HARM
    assert crisis.distress is not None


def test_high_distress_alone_is_vulnerable(tiny_model_dir: Path) -> None:
    scorer = SignalScorer.from_settings(tiny_model_dir, threshold=0.5)
    result = scorer.assess("i am hopeless miserable desperate", "en")
    assert result.vulnerable and not result.immediate_human
    assert result.priority == PRIORITY_HIGH_DISTRESS
    assert result.reason and result.reason.startswith("model distress")


def test_model_without_distress_label_is_rejected(tiny_model_dir: Path) -> None:
    from engine.signals.model import DistressModel

    with pytest.raises(ValueError):
        DistressModel.load(tiny_model_dir, distress_labels={"anger"})


def test_model_is_safe_to_share_between_threads(tiny_model_dir: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    scorer = SignalScorer.from_settings(tiny_model_dir)
    texts = ["i feel so hopeless and alone", "please check the payment date"] * 8
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda t: scorer.assess(t, "en").distress, texts))
    assert all(r is not None for r in results)
    assert results[0] == pytest.approx(results[2]) and results[1] == pytest.approx(results[3])
    assert time.perf_counter() - started < 10
