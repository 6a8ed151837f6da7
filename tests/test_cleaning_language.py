"""Languages decided for a whole batch at once give py3langid's own answers, text by text."""

from __future__ import annotations

import random

import py3langid

from wirecopy.cleaning.langid_batch import classify_batch
from wirecopy.cleaning.language import detect_language, detect_languages

SENTENCES = [
    "The Federal Reserve left its benchmark interest rate unchanged on Wednesday.",
    "Le président français a déclaré mercredi qu'il était prêt à négocier.",
    "Die Bundesregierung hat beschlossen, die Förderung für Elektroautos zu kürzen.",
    "Правительство России объявило в среду о новых мерах поддержки экономики.",
    "El gobierno anunció el martes nuevas medidas para apoyar la economía.",
    "O governo anunciou na terça-feira novas medidas para apoiar a economia.",
    "Il governo ha annunciato martedì nuove misure per sostenere l'economia.",
    "De regering heeft dinsdag nieuwe maatregelen aangekondigd om de economie te steunen.",
    "این یک متن فارسی است که برای آزمایش تشخیص زبان نوشته شده است",
    "Hükümet salı günü ekonomiyi desteklemek için yeni önlemler açıkladı.",
    "政府は火曜日、経済を支援するための新たな措置を発表した。",
    "Η κυβέρνηση ανακοίνωσε την Τρίτη νέα μέτρα για τη στήριξη της οικονομίας.",
    "הממשלה הודיעה ביום שלישי על צעדים חדשים לתמיכה בכלכלה.",
    "Rząd ogłosił we wtorek nowe środki wsparcia gospodarki.",
    "ok",
    "",
    "12345 67890",
    "HELLO WORLD THIS IS UPPER CASE TEXT",
]


def _texts() -> list[str]:
    rng = random.Random(3)
    alphabet = "abcdefghijklmnopqrstuvwxyz éàüößçñ абвгдежзийклмнопрстуфхцчшщыэюя αβγδ אבגד 中文字 ابتثجحخ"
    noise = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 1200))) for _ in range(150)]
    mixed = [" ".join(rng.sample(SENTENCES, 3)) * rng.randint(1, 12) for _ in range(60)]
    return SENTENCES + noise + mixed


def test_classify_batch_equals_py3langid_text_by_text(monkeypatch) -> None:
    from wirecopy.cleaning import langid_batch

    texts = _texts()
    expected = [py3langid.classify(text)[0] for text in texts]
    assert classify_batch(texts) == expected
    monkeypatch.setattr(langid_batch, "WALK_CELLS", 20_000)  # many small walks, a long text nearly alone
    assert classify_batch(texts) == expected
    monkeypatch.setattr(langid_batch, "CAST_ROWS", 0)  # every text's feature rows cast on their own
    assert classify_batch(texts) == expected
    assert len(set(expected)) >= 12  # many languages, not one answer everywhere
    assert classify_batch(texts[::-1]) == expected[::-1]  # whatever the batch's order and company
    assert [classify_batch([text])[0] for text in texts[:20]] == expected[:20]
    assert classify_batch([]) == []


def _one_at_a_time(text: str) -> str | None:
    """The decision as it was made before batches: the same sample and fast path, then py3langid.classify."""
    from wirecopy.cleaning import language

    found = language._sample(text)
    if found is None:
        return None
    sample = found[0]
    letters = sum(map(str.isalpha, sample))
    arabic = len(language._ARABIC_LETTER.findall(sample))
    if arabic >= language.ARABIC_SHARE * letters and not language._OTHER_ARABIC_SCRIPT_LANGUAGE.search(sample):
        return "ar"
    code = str(py3langid.classify(sample)[0])
    code = language._TO_ISO_639_1.get(code, code)
    return code if len(code) == 2 else None


def test_detect_languages_equals_one_text_at_a_time() -> None:
    arabic = "قالت وزارة الدفاع في أرمينيا إن القتال استمر طوال الليل، بحسب رويترز (AFP)."
    late_letters = "12 34 " * 300 + "The Federal Reserve left its benchmark interest rate unchanged. " * 3
    texts = [*_texts(), arabic, late_letters]
    decided = detect_languages(texts)
    assert decided == [_one_at_a_time(text) for text in texts]
    assert decided == [detect_language(text) for text in texts]
    assert decided[-2:] == ["ar", "en"]


def test_letters_counted_for_all_texts_at_once_are_counted_character_by_character() -> None:
    from wirecopy.cleaning import language

    rng = random.Random(5)
    alphabet = "aZ é١٢ مرحبا ـ ک ﻻ ﷺ \u0670 𝐀𝔸 😀 \ud800 \udfff 中 ²½ _\t\n\U00010000\uffff"  # both edges of the plane
    texts = [*_texts(), "", "𝐀", "\ud83d", "\U00010000"]
    texts += ["".join(rng.choices(alphabet, k=rng.randint(0, 300))) for _ in range(200)]
    letters, arabic = language.letter_counts(texts)
    assert letters.tolist() == [sum(map(str.isalpha, text)) for text in texts]
    assert arabic.tolist() == [len(language._ARABIC_LETTER.findall(text)) for text in texts]
    assert [len(counts) for counts in language.letter_counts([])] == [0, 0]


def test_a_few_samples_go_one_by_one_and_many_in_one_walk(monkeypatch) -> None:
    from wirecopy.cleaning import langid_batch, language

    walks: list[int] = []
    original = langid_batch.classify_batch
    monkeypatch.setattr(langid_batch, "classify_batch", lambda texts: walks.append(len(texts)) or original(texts))
    few = SENTENCES[:3]
    many = SENTENCES[:4] * (language.BATCH_FROM // 4 + 1)
    assert detect_languages(few) == [_one_at_a_time(text) for text in few]
    assert detect_languages(many) == [_one_at_a_time(text) for text in many]
    assert walks == [len(many)]


def test_a_batch_whose_languages_fail_together_is_decided_one_by_one(monkeypatch) -> None:
    """Should the batch decision fail, each document is decided alone; one that still fails becomes an error
    naming it, and the others are cleaned."""
    from wirecopy import transform
    from wirecopy.models import ContentType, RawDocument, content_hash

    def raw(name: str, text: str) -> RawDocument:
        return RawDocument(source_uri=f"mem://{name}", outlet="o", content=text, content_type=ContentType.TEXT,
                           content_hash=content_hash(text))  # fmt: skip

    docs = [raw("en", SENTENCES[0] * 2), raw("bad", "Poison pill paragraph for the language model, twice over."),
            raw("fr", SENTENCES[1] * 2)]  # fmt: skip

    def batch_fails(texts):
        raise RuntimeError("batch walk failed")

    def one(text: str):
        if text.startswith("Poison"):
            raise ValueError("cannot decide")
        return detect_language(text)

    monkeypatch.setattr(transform, "detect_languages", batch_fails)
    monkeypatch.setattr(transform, "detect_language", one)
    documents, errors = transform.clean_documents(docs)
    assert [(raw.source_uri, doc.language) for raw, doc in documents] == [("mem://en", "en"), ("mem://fr", "fr")]
    assert [(e.source_uri, e.stage, e.reason) for e in errors] == [("mem://bad", "clean", "ValueError: cannot decide")]


def test_the_cached_model_is_py3langids_own(tmp_path, monkeypatch) -> None:
    """The model read from wirecopy's cache (`langid_model`) holds what py3langid loads from its own LZMA file,
    attribute by attribute, and classifies alike; a second process reads the copy the first one wrote."""
    import numpy as np
    from py3langid import langid

    from wirecopy.cleaning import langid_model

    monkeypatch.setenv(langid_model.CACHE_ENV, str(tmp_path / "cache"))
    written = langid_model.cached_model()
    assert written.parent == tmp_path / "cache" and written.stat().st_size > 10 * 2**20
    assert langid_model.cached_model() == written and len(list(written.parent.iterdir())) == 1  # no temporary left
    cached = langid_model.load_identifier(written)
    own = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE)

    def same(mine, theirs) -> bool:
        if isinstance(theirs, np.ndarray):
            return mine.dtype == theirs.dtype and np.array_equal(mine, theirs)
        if isinstance(theirs, tuple):
            return type(mine) is tuple and len(mine) == len(theirs) and all(map(same, mine, theirs))
        return type(mine) is type(theirs) and mine == theirs

    slots = [slot for cls in type(own).__mro__ for slot in getattr(cls, "__slots__", ())]
    assert len(slots) >= 10 and all(same(getattr(cached, name), getattr(own, name)) for name in slots)
    rng = random.Random(5)
    texts = SENTENCES + [" ".join(rng.choices(SENTENCES, k=3)) for _ in range(50)]
    assert [cached.classify(t) for t in texts] == [own.classify(t) for t in texts]


def test_an_unwritable_cache_leaves_py3langid_to_load_its_model(tmp_path, monkeypatch) -> None:
    from py3langid import langid

    from wirecopy.cleaning import langid_model

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(langid_model.CACHE_ENV, str(blocker / "cache"))
    monkeypatch.setattr(langid, "IDENTIFIER", None)
    langid_model.install()  # cannot write its copy: no error, nothing installed
    assert langid.IDENTIFIER is None
    assert detect_language(SENTENCES[0] * 3) == "en" and langid.IDENTIFIER is not None  # py3langid's own load


def test_a_damaged_cached_model_is_replaced_by_the_next_process(tmp_path, monkeypatch) -> None:
    from py3langid import langid

    from wirecopy.cleaning import langid_model

    monkeypatch.setenv(langid_model.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(langid, "IDENTIFIER", None)
    damaged = langid_model.cached_model()
    damaged.write_bytes(b"not a model")
    langid_model.install()  # cannot read it: py3langid will load its own, the copy is removed
    assert langid.IDENTIFIER is None and not damaged.exists()
    langid_model.install()  # the next one writes it again and reads it
    assert langid.IDENTIFIER is not None and damaged.exists() and damaged.stat().st_size > 10 * 2**20
