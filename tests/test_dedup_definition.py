"""The duplicate definition on hand-made Arabic pairs: each rule of ../shared/eval/README.md, one at a time."""

from __future__ import annotations

import numpy as np
import pytest

from wirecopy.dedup.definition import covered, different_facts, judge, prepare, stem
from wirecopy.dedup.normalize import normalize_for_matching
from wirecopy.dedup.settings import DedupSettings
from wirecopy.models import DedupMethod

BASE = (
    "وأعلنت وزارة الصحة أن فرق الإسعاف نقلت المصابين إلى مستشفيات المدينة بعد الحادث الذي وقع على الطريق السريع "
    "وأن السلطات فتحت تحقيقا لمعرفة أسباب الحادث ومحاسبة المسؤولين عنه"
)


def verdict(a: str, b: str):
    return judge(prepare(normalize_for_matching(a)), prepare(normalize_for_matching(b)))


def test_identical_after_orthography_and_dateline() -> None:
    copy = "الرياض - واس: " + BASE.replace("أ", "ا").replace("ة", "ه")
    assert verdict(BASE, copy) is not None


def test_minor_edit_is_near() -> None:
    edited = BASE.replace("فرق الإسعاف", "فرق الهلال الأحمر")
    result = verdict(BASE, edited)
    assert result is not None and result.method is DedupMethod.NEAR


def test_added_attribution_is_no_difference() -> None:
    assert verdict(BASE, "وقال المتحدث باسم الوزارة إن " + BASE) is not None


def test_truncation_above_forty_percent_is_containment() -> None:
    half = " ".join(BASE.split()[:14])
    result = verdict(BASE, half)
    assert result is not None and result.method is DedupMethod.CONTAINMENT


def test_excerpt_below_forty_percent_is_distinct() -> None:
    longer = BASE + " " + BASE.replace("وزارة الصحة", "هيئة الطرق").replace("الحادث", "الانهيار")
    assert verdict(longer, " ".join(BASE.split()[:8])) is None


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("نقلت المصابين", "نقلت 12 مصابا", None),  # one side adds a number: not a changed fact
        ("وقع على الطريق السريع", "وقع يوم الثلاثاء على الطريق السريع", None),
    ],
)
def test_one_sided_additions_are_no_changed_fact(old: str, new: str, kind) -> None:
    a, b = prepare(normalize_for_matching(BASE)), prepare(normalize_for_matching(BASE.replace(old, new)))
    assert different_facts(a, b) == kind


@pytest.mark.parametrize(
    ("frame", "old", "new", "kind"),
    [
        ("ارتفع المؤشر العام {} نقاط عند الإغلاق اليوم في السوق", "5", "9", "number"),
        ("تبدأ الرحلة {} من المطار وتحمل مواد غذائية للمتضررين", "الرابعة", "الخامسة", "number"),
        ("يعقد الاجتماع يوم {} في مقر الوزارة لبحث الخطة", "الثلاثاء", "الخميس", "date"),
        ("تكون الرياح {} سرعتها معتدلة على الساحل", "شمالية غربية", "جنوبية شرقية", "direction"),
        ("وقد {} ولي العهد إلى العاصمة في زيارة رسمية للبلاد", "وصل", "غادر", "event"),
        ("بعث الملك برقية تهنئة لرئيس {} بمناسبة ذكرى استقلال بلاده", "تونس", "بنين", "place"),
        ("استقبل الأمير {} بن عبدالله في مكتبه وفد الغرفة التجارية", "فهد", "طلال", "name"),
    ],
)
def test_template_with_a_changed_fact_is_distinct(frame: str, old: str, new: str, kind: str) -> None:
    fa, fb = (prepare(normalize_for_matching(frame.format(word))) for word in (old, new))
    assert different_facts(fa, fb) == kind
    assert judge(fa, fb) is None


def test_same_fact_in_other_words_is_no_change() -> None:
    a = prepare(normalize_for_matching("تستمر الحملة 6 أشهر في جميع مناطق المملكة بمشاركة الجهات المعنية"))
    b = prepare(normalize_for_matching("تستمر الحملة ستة أشهر في جميع مناطق المملكة بمشاركة الجهات المعنية"))
    assert different_facts(a, b) is None
    months = [prepare(normalize_for_matching(f"صدر القرار في 5 {m} الماضي بعد موافقة المجلس"))
              for m in ("مارس", "آذار")]  # fmt: skip
    assert different_facts(*months) is None


def test_spelling_variant_of_a_name_is_no_change() -> None:
    a = prepare(normalize_for_matching("ولعب المهاجم دييجو فورلان مع الفريق طوال الموسم الماضي بنجاح كبير"))
    b = prepare(normalize_for_matching("ولعب المهاجم دييغو فورلان مع الفريق طوال الموسم الماضي بنجاح كبير"))
    assert judge(a, b) is not None


def test_short_paragraph_with_another_word_is_distinct_but_a_typo_is_not() -> None:
    title = "سفر مرضى القلب بالطائرة"
    assert verdict(title, "سفر مرضى الكلى بالطائرة") is None
    assert verdict(title, "سفر مرضي القلب بالطايرة") is not None


def test_reordered_sentences_are_covered() -> None:
    first, second = "فتحت السلطات تحقيقا في أسباب الحادث", "ونقلت فرق الإسعاف المصابين إلى مستشفيات المدينة القريبة"
    assert verdict(f"{first} {second}", f"{second} {first}") is not None


def test_covered_and_stem_helpers() -> None:
    assert covered(list("abcdef"), list("xxabcyy"), 3) == [True, True, True, False, False, False]
    assert stem(normalize_for_matching("والمدينة")) == "مدين"  # و and ال off, final ه (ة) off
    assert stem("2012م") == "2012"


def test_a_different_event_anywhere_in_the_paragraph_is_distinct() -> None:
    """Arrived in one, left in the other, even when the verb moved (no aligned substitution)."""
    a = "وكان ولي العهد قد غادر أمس المملكة الأردنية الهاشمية تلبية لدعوة من الملك عبدالله الثاني"
    b = "وكان قد وصل ولي العهد أمس إلى المملكة الأردنية الهاشمية تلبية لدعوة من الملك عبدالله الثاني"
    fa, fb = prepare(normalize_for_matching(a)), prepare(normalize_for_matching(b))
    assert different_facts(fa, fb) == "event"
    assert judge(fa, fb) is None


def test_two_templates_that_both_copy_a_third_text_stay_apart() -> None:
    """X and Y each copy R, but X and Y report different facts: R keeps one of them, the other leads its own."""
    from wirecopy.dedup.clustering import assign_representatives
    from wirecopy.dedup.verify import Edge

    r, x, y = 1, 2, 3  # keep-rule order: r first
    edges = [Edge(r, x, DedupMethod.NEAR, 0.9, 0.9, 0.9), Edge(r, y, DedupMethod.NEAR, 0.8, 0.8, 0.8)]
    free = assign_representatives([r, x, y], edges)
    assert {free[x].representative, free[y].representative} == {r}
    apart = assign_representatives([r, x, y], edges, conflicts={(x, y)})
    assert apart[x].representative == r  # the better-scoring copy joins first
    assert apart[y].representative == y and apart[y].edge is None


def test_another_ordinal_anywhere_is_another_event_of_the_series() -> None:
    a = "وصلت الطائرة الإغاثية الثانية إلى مطار عدن الدولي محملة بالمواد الغذائية والطبية للمتضررين"
    b = "إلى مطار عدن الدولي محملة بالمواد الغذائية والطبية للمتضررين وصلت الطائرة الإغاثية الرابعة"
    fa, fb = prepare(normalize_for_matching(a)), prepare(normalize_for_matching(b))
    assert different_facts(fa, fb) == "number"


def test_rewrite_with_the_same_words_reordered_and_condensed_is_a_duplicate() -> None:
    """Half the shorter paragraph in copied runs, nearly all its words in the longer one: same facts, rewritten."""
    a = (
        "أظهر تقرير مجلس التنمية الاقتصادية أن معدل النمو بلغ نحو ثلاثة بالمائة خلال العام الماضي "
        "مدفوعا بنمو القطاعات غير النفطية وزيادة الاستثمارات في البنية التحتية"
    )
    b = ("بلغ معدل النمو نحو ثلاثة بالمائة خلال العام الماضي بحسب تقرير مجلس التنمية الاقتصادية "
         "وجاء مدفوعا بزيادة الاستثمارات في البنية التحتية ونمو القطاعات غير النفطية")  # fmt: skip
    assert verdict(a, b) is not None
    excerpt = "ونمو القطاعات غير النفطية وزيادة الاستثمارات"
    assert verdict(a, excerpt) is None  # a few of its words, not the same facts
    forms = prepare(normalize_for_matching(a)), prepare(normalize_for_matching(b))
    strict = {"b1_shorter": 0.95, "b2_each": 0.95}  # B1/B2 stricter than this pair: only the rewrite route takes it
    assert judge(*forms, DedupSettings(**strict).rules) is not None
    assert judge(*forms, DedupSettings(**strict, rewrites=False).rules) is None
    assert judge(*forms, DedupSettings(**strict, rewrite_runs=0.9).rules) is None  # the route's thresholds are settings


@pytest.mark.parametrize(
    ("title", "typo"),
    [
        ("احتجاجات غاضبة في شوارع يريفان", "احتجاجات غابة في شوارع يريفان"),  # a letter dropped mid-title
        ("آلاف اللاجئين يصلون إلى غوريس", "آلاف اللاججئين يصلون إلى غوريس"),  # a letter doubled
        ("Thousands of refugees reach Goris", "Thousands of refuggees reach Goris"),
    ],
)
def test_a_typo_in_a_short_title_is_still_the_same_title(title: str, typo: str) -> None:
    assert verdict(title, typo) is not None


def test_a_short_excerpt_of_an_edited_copy_is_no_changed_wording() -> None:
    """The any-substitution rule is for two short paragraphs (titles); a short excerpt against a long paragraph with
    a synonym edit is still a copy (both clauses of one long paragraph, not two titles)."""
    source = "وأعلن المتحدث باسم البلدية بدء الصيانة، مؤكدا أن سلامة السكان وراحتهم هما الأولوية القصوى لدى البلدية"
    excerpt = "مؤكدا أن سلامة السكان وراحتهم هما الأولوية القصوى لدى البلدية"
    edited = source.replace("السكان", "الأهالي")
    assert verdict(excerpt, edited) is not None
    assert verdict("سلامة السكان هي الأولوية", "سلامة الأهالي هي الأولوية") is None  # two titles: another word


def test_a_place_swapped_for_one_named_elsewhere_in_the_paragraph_is_a_changed_place() -> None:
    a = "وأكد الوزير أن اعتماد مصر على الأردن في مجال الطاقة يتزايد عاما بعد عام منذ توقيع الاتفاقية بين البلدين"
    fa, fb = (prepare(normalize_for_matching(t)) for t in (a, a.replace("على الأردن", "على مصر")))
    assert different_facts(fa, fb) == "place"
    assert judge(fa, fb) is None
    english = "Officials said trade between Egypt and Jordan grew as Egypt relied on Jordan for part of its power"
    fe, fj = (prepare(normalize_for_matching(t)) for t in (english, english.replace("on Jordan", "on Egypt")))
    assert different_facts(fe, fj) == "place"


def test_an_ordinal_or_direction_is_counted_not_just_present() -> None:
    """Both name the second deputy; one names the second flight, the other the fourth."""
    frame = "أمر النائب الثاني لرئيس المجلس بتسيير الرحلة {} إلى المطار محملة بالمواد الغذائية والطبية للمتضررين"
    fa, fb = (prepare(normalize_for_matching(frame.format(w))) for w in ("الثانية", "الرابعة"))
    assert different_facts(fa, fb) == "number"
    wind = "تكون الرياح شمالية غربية على الجزء الشمالي و{} على الجزء الجنوبي بسرعة معتدلة وحالة البحر متوسط الموج"
    fa, fb = (prepare(normalize_for_matching(wind.format(w))) for w in ("شمالية", "جنوبية"))
    assert different_facts(fa, fb) == "direction"
    same = prepare(normalize_for_matching(wind.format("شمالية")))
    assert different_facts(fa, same) is None


def test_heading_to_a_country_and_leaving_it_are_different_events() -> None:
    a = "يتوجه وزير الخارجية غدا إلى المملكة المغربية في زيارة رسمية تلبية لدعوة من نظيره المغربي لبحث العلاقات"
    b = "غادر وزير الخارجية المملكة المغربية بعد زيارة رسمية تلبية لدعوة من نظيره المغربي لبحث العلاقات"
    fa, fb = prepare(normalize_for_matching(a)), prepare(normalize_for_matching(b))
    assert different_facts(fa, fb) == "event"
    assert judge(fa, fb) is None


FRAME = "وأوضح المتحدث باسم الهيئة أن الرحلة خصصت {} ضمن برنامج الجسر الجوي المستمر بالتنسيق مع وزارة الصحة"
CANCER = "لنقل أدوية مرضى السرطان إلى مراكز علاج الأورام في المستشفيات الحكومية"
KIDNEY = "لنقل أجهزة غسيل الكلى والمحاليل الطبية التي تحتاجها المراكز المتخصصة"


def test_a_shared_frame_with_a_clause_replaced_is_a_conflict() -> None:
    """Two notices of one formula with other supplies: never in one cluster, even through the bare formula that both
    contain, published first. Two cuts of one text differ at the edges, not inside: no conflict."""
    from datetime import UTC, datetime

    from wirecopy.dedup.definition import Conflict, compare
    from wirecopy.dedup.engine import KeepKey, ParagraphRef, text_hash
    from wirecopy.dedup.match import match_batch
    from wirecopy.dedup.memory_index import MemoryIndex
    from wirecopy.dedup.settings import DedupSettings

    texts = [FRAME.format("").replace("  ", " "), FRAME.format(CANCER), FRAME.format(KIDNEY)]
    forms = [prepare(normalize_for_matching(t)) for t in texts]
    assert compare(forms[1], forms[2]) == Conflict("clause")
    assert judge(forms[0], forms[1]) is not None and judge(forms[0], forms[2]) is not None
    normalized = {text_hash(normalize_for_matching(t)): normalize_for_matching(t) for t in texts}
    refs = [
        ParagraphRef(
            f"p{i}",
            text_hash(normalize_for_matching(t)),
            KeepKey.of(datetime(2024, 1, 1 + i, tzinfo=UTC), None, f"d{i}", 0),
        )
        for i, t in enumerate(texts)
    ]
    links = match_batch(refs, normalized, MemoryIndex(), DedupSettings()).links
    assert [(link.paragraph_id, link.canonical_id) for link in links] == [("p1", "p0")]  # p2 leads its own cluster
    words = FRAME.format(CANCER).split()
    prefix, suffix = " ".join(words[:16]), " ".join(words[6:])
    assert not isinstance(compare(*(prepare(normalize_for_matching(t)) for t in (prefix, suffix))), Conflict)


def test_the_word_after_a_place_marker_is_a_place_even_when_not_listed() -> None:
    frame = "بعث الملك برقية تهنئة لرئيس جمهورية {} بمناسبة ذكرى استقلال بلاده متمنيا لشعبها المزيد من التقدم"
    fa, fb = (prepare(normalize_for_matching(frame.format(p))) for p in ("ليسوتو", "إسواتيني"))
    assert different_facts(fa, fb) == "name"
    city = "وصلت القافلة إلى مدينة {} مساء بعد رحلة استغرقت عدة ساعات على الطريق الساحلي الجديد"
    fa, fb = (prepare(normalize_for_matching(city.format(p))) for p in ("أملج", "ضباء"))
    assert different_facts(fa, fb) == "name"
    state = "وتنهار فيه مؤسسات الدولة {} ويتأجج فيه الصراع ويهدد الأمن والسلم الإقليمي والدولي في المنطقة"
    fa, fb = (prepare(normalize_for_matching(state.format(w))) for w in ("جميعها", "كافة"))  # الدولة: the state
    assert different_facts(fa, fb) is None


def test_covered_count_is_the_number_of_covered_words() -> None:
    from wirecopy.dedup.definition import covered_counts

    rng = np.random.default_rng(23)
    for _ in range(2_000):
        a = [f"w{x}" for x in rng.integers(0, 6, rng.integers(0, 40))]
        b = [f"w{x}" for x in rng.integers(0, 6, rng.integers(0, 40))]
        for run in (1, 2, 3, 5):
            assert covered_counts(a, b, run) == (sum(covered(a, b, run)), sum(covered(b, a, run)))
    assert covered_counts(["a"] * 300, ["a"] * 300, 3) == (300, 300)


def test_the_common_path_of_prepare_equals_the_word_by_word_one(seed_documents) -> None:
    """Texts without a split name or a discounted word take a path without a Python step per word."""
    from wirecopy.dedup.definition import _prepare_word_by_word, lexicon
    from wirecopy.dedup.normalize import normalize_batch

    texts = normalize_batch([text for _, doc in seed_documents for text in doc.paragraphs])
    texts += ["قال الأمير فيصل إن", "عبد العزيز في الرياض", "مدينة الرياض وقطر", "شرقي المدينة"]
    fast = 0
    for text in texts:
        tokens = text.split()
        assert prepare(text) == _prepare_word_by_word(tokens, lexicon())
        assert prepare(text).counts == _prepare_word_by_word(tokens, lexicon()).counts
        fast += "عبد" not in tokens and lexicon().discounted.isdisjoint(tokens)
    assert 0 < fast < len(texts)
