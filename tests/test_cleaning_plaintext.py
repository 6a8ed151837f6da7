"""Plain-text boilerplate rules: one test group per rule class, positive and negative cases."""

from __future__ import annotations

import pytest

from wirecopy.cleaning.plaintext import clean_plaintext

AR_BODY = "قالت وزارة الدفاع في أرمينيا، الاثنين، إن القتال مع القوات الأذرية استمر طوال الليل واستؤنف في الصباح."
AR_BODY_2 = "وبدوره دعا رئيس الوزراء الأرميني المجتمع الدولي إلى ضمان عدم تدخل تركيا في أزمة الإقليم الحدودية."
EN_BODY = "The US Federal Reserve left its benchmark interest rate unchanged on Wednesday, officials said."
EN_BODY_2 = "Treasury yields rose to their highest level since 2007 as investors priced in higher borrowing costs."


def removed_rules(text: str, **kwargs: object) -> dict[str, str]:
    """Removed line text → rule class."""
    return {s.text: s.rule.split(":")[0] for s in clean_plaintext(text, **kwargs).removed}  # type: ignore[arg-type]


def kept(text: str) -> list[str]:
    return clean_plaintext(text).paragraphs


# ----------------------------------------------------------------------------------------- ad markers
@pytest.mark.parametrize(
    "marker",
    [
        "[ad_1]",
        "[ad_2]",
        "[ ad_12 ]",
        "Advertisement",
        "- Advertisement -",
        "إعلان",
        "(adsbygoogle = window.adsbygoogle || []).push({});",
        "Ad",
    ],
)
def test_ad_marker_lines_are_removed(marker: str) -> None:
    assert removed_rules(f"{AR_BODY}\n{marker}\n{AR_BODY_2}") == {marker: "ad"}


def test_inline_ad_markers_are_cut_and_the_line_kept() -> None:
    result = clean_plaintext(f"[ad_1] {AR_BODY}\n{AR_BODY_2} [ad_2]")
    assert result.paragraphs == [AR_BODY, AR_BODY_2]
    assert [(s.line_no, s.text, s.rule) for s in result.removed] == [
        (1, "[ad_1]", "ad:inline"),
        (2, "[ad_2]", "ad:inline"),
    ]


def test_ad_words_inside_sentences_stay() -> None:
    text = "Advertisement spending fell 4% last year, the industry body said in its annual report."
    assert kept(text) == [text]


# ------------------------------------------------------------------------------- source and read also
@pytest.mark.parametrize(
    "line",
    [
        "المصدر",
        "المصدر:",
        "المصدر: وكالات",
        "المصدر : الجزيرة + وكالات",
        "المصدر / وكالة الأناضول",
        "(وكالات)",
        "Source: Reuters",
        "Sources: AFP, AP",
        "Reporting by Nadia El Gowely; Editing by Alex Richardson",
        "— Reuters",
        "AFP contributed to this report.",
    ],
)
def test_source_lines_are_removed(line: str) -> None:
    assert removed_rules(f"{AR_BODY}\n{line}") == {line: "source"}


@pytest.mark.parametrize(
    "line",
    [
        "اقرأ أيضا",
        "اقرأ أيضاً: أرمينيا تطلب اجتماعاً طارئاً لمجلس الأمن",
        "إقرأ ايضاً",
        "طالع أيضا: ارتفاع أسعار الذهب",
        "Read more: Oil hits 10-month high",
        "Read also",
        "READ MORE",
        "Related: How the Fed sets rates",
    ],
)
def test_read_also_lines_are_removed(line: str) -> None:
    assert removed_rules(f"{EN_BODY}\n{line}\n{EN_BODY_2}") == {line: "read_also"}


@pytest.mark.parametrize(
    "line",
    [
        "المصدر الأمني أكد أن التحقيقات ما زالت جارية في ملابسات الحادث.",
        "Sources familiar with the discussions said several officials had argued for a pause.",
        "Source code for the model was published online, the authors said.",
        "Reporting on the policy began after details leaked to the BBC late on Tuesday.",
    ],
)
def test_sentences_starting_like_a_source_stay(line: str) -> None:
    assert kept(f"{EN_BODY}\n{line}") == [EN_BODY, line]


# ------------------------------------------------------------------------------------- social posts
def test_foreign_script_tweet_around_attribution_is_removed_body_stays() -> None:
    text = "\n".join(
        [
            AR_BODY,
            "В Ереване протестующие пытаются прорваться к дверям здания Правительства",
            "— SOTA (@Sota_Vision) September 19, 2023",
            "Люди скандируют «Никол предатель!» и подходят все ближе ко входу.",
            "Ранее премьер-министр Армении записал видеообращение… pic.twitter.com/3SVUKAJcwj",
            "باشينيان يتصل بماكرون وبلينكن",
            AR_BODY_2,
        ]
    )
    result = clean_plaintext(text)
    assert result.paragraphs == [AR_BODY, "باشينيان يتصل بماكرون وبلينكن", AR_BODY_2]
    assert [s.rule for s in result.removed] == ["social:post", "social:any", "social:post", "social:any"]


def test_same_script_tweet_text_right_before_attribution_is_removed() -> None:
    tweet = "عاجل | فرق الإنقاذ تنتشل 30 ناجيا من تحت الأنقاض"
    text = f"{AR_BODY}\n{tweet}\n— قناة الجزيرة (@AJArabic) September 9, 2023\n{AR_BODY_2}"
    assert kept(text) == [AR_BODY, AR_BODY_2]


def test_arabic_tweet_in_english_document_is_removed() -> None:
    text = (
        f"{EN_BODY}\n{EN_BODY_2}\nنتابع بقلق بالغ تطورات الأوضاع في السودان\n"
        f"— وزارة الخارجية (@KSAMOFA) September 14, 2023\n{EN_BODY}"
    )
    assert kept(text) == [EN_BODY, EN_BODY_2, EN_BODY]


@pytest.mark.parametrize(
    "line",
    [
        "pic.twitter.com/Ab12Cd",
        "https://t.co/9xKq2LmP0z",
        "#درنة #ليبيا",
        "View this post on Instagram",
        "A post shared by Arsenal (@arsenal)",
    ],
)
def test_social_anchor_lines_are_removed(line: str) -> None:
    assert removed_rules(f"{AR_BODY}\n{line}\n{AR_BODY_2}") == {line: "social"}


def test_foreign_script_body_line_without_a_post_nearby_stays() -> None:
    quote = '"The AI Act is a starting point for a new model of governance built around technology."'
    assert kept(f"{AR_BODY}\n{quote}\n{AR_BODY_2}") == [AR_BODY, quote, AR_BODY_2]


# ---------------------------------------------------------------------------------------- date lines
@pytest.mark.parametrize(
    "line",
    [
        "19-سبتمبر-2023",
        "الثلاثاء 19 سبتمبر 2023",
        "2023-09-19",
        "September 19, 2023",
        "٨ أكتوبر ٢٠٢٣",
        "آخر تحديث: الثلاثاء 19 سبتمبر 2023 - 14:05 بتوقيت مكة المكرمة",
        "Updated: Sept. 19, 2023 at 3:45 p.m. ET",
        "Wed 20 Sep 2023 14.32 BST",
        "منذ 3 ساعات",
        "Posted 2 hours ago",
        "19/09/2023",
    ],
)
def test_date_only_lines_are_removed(line: str) -> None:
    assert removed_rules(f"{line}\n{AR_BODY}") == {line: "date"}


@pytest.mark.parametrize(
    "line",
    [
        "حرب الأسابيع الـ6 في 2020",
        "May 2024 election",
        "وفي 19 سبتمبر 2023 أعلنت الوزارة بدء العملية العسكرية في الإقليم.",
    ],
)
def test_lines_with_dates_and_other_words_stay(line: str) -> None:
    assert kept(f"{AR_BODY}\n{line}\n{AR_BODY_2}") == [AR_BODY, line, AR_BODY_2]


# ------------------------------------------------------------------------------------------ tag lines
def test_tag_line_next_to_date_in_header_is_removed() -> None:
    result = clean_plaintext(f"19-سبتمبر-2023\nأذربيجان وأرمينيا\n\n{AR_BODY}\n{AR_BODY_2}")
    assert result.paragraphs == [AR_BODY, AR_BODY_2]
    assert [(s.line_no, s.rule) for s in result.removed] == [(1, "date:ar"), (2, "tag:heuristic")]


@pytest.mark.parametrize(
    "line",
    [
        "أرمينيا، أذربيجان، روسيا",
        "Armenia | Azerbaijan",
        "سياسة",
        "World",
        "Politics, Europe, Russia",
        "تونس - صندوق النقد الدولي",
        "Sport > Football",
        "Business and Economy",
    ],
)
def test_tag_lines_in_footer_next_to_source_are_removed(line: str) -> None:
    assert removed_rules(f"{EN_BODY}\n{EN_BODY_2}\nSource: Reuters\n{line}") == {
        "Source: Reuters": "source",
        line: "tag",
    }


@pytest.mark.parametrize(
    "line", ["Tags: Armenia, Azerbaijan, Nagorno-Karabakh", "الوسوم: أرمينيا - أذربيجان", "Tags Armenia Azerbaijan"]
)
def test_explicit_tag_lines_are_removed_anywhere(line: str) -> None:
    assert removed_rules(f"{EN_BODY}\n{line}\n{EN_BODY_2}") == {line: "tag"}


@pytest.mark.parametrize(
    "subheading",
    [
        "باشينيان يتصل بماكرون وبلينكن",
        "تركيا تدعم أذربيجان",
        "ألمانيا تطالب بوقف فوري للقصف",
        "Russia warns Armenia",
        "الهلال يتعاقد مع نيمار في صفقة قياسية",
    ],
)
def test_subheadings_right_after_a_date_line_stay(subheading: str) -> None:
    assert kept(f"19-سبتمبر-2023\n{subheading}\n{AR_BODY}") == [subheading, AR_BODY]


@pytest.mark.parametrize("subheading", ["أرمينيا وأذربيجان", "Armenia and Azerbaijan", "مصر والجزائر"])
def test_name_list_subheadings_between_body_paragraphs_stay(subheading: str) -> None:
    text = f"{AR_BODY}\n{subheading}\n{AR_BODY_2}\nالمصدر: وكالات"
    assert kept(text) == [AR_BODY, subheading, AR_BODY_2]


# ------------------------------------------------------------------------------------------- captions
@pytest.mark.parametrize(
    "line",
    [
        "الأرمن يحتجون أمام المبنى الحكومي في وسط يريفان (كارين ميناسيان/وكالة الصحافة الفرنسية)",
        "لاجئون يصلون إلى بلدة غوريس الحدودية (رويترز)",
        "Protesters gather outside the government building in Yerevan (Photo: Reuters)",
        "Getty Images",
        "Photo: AFP",
        "AP Photo/Vahram Baghdasaryan",
        "صورة أرشيفية",
        "تصوير: أحمد حسن",
        "A damaged building in Kyiv. (Reuters: Gleb Garanich)",
        "FILE PHOTO: Azerbaijani servicemen drive military vehicles in Shusha. REUTERS/Aziz Karimov/File Photo",
    ],
)
def test_caption_and_credit_lines_are_removed(line: str) -> None:
    assert removed_rules(f"{AR_BODY}\n{line}\n{AR_BODY_2}") == {line: "caption"}


@pytest.mark.parametrize(
    "line",
    [
        "وأفادت وكالة الأنباء السعودية (واس)",
        "The ministry confirmed the figure on Tuesday. (AFP)",
        "تدعو الحكومة الألمانية إلى وضع حد للهجوم، وقال المستشار أولاف شولتس (الحزب الديمقراطي الاشتراكي)",
    ],
)
def test_body_lines_ending_in_parentheses_stay(line: str) -> None:
    assert kept(f"{AR_BODY}\n{line}") == [AR_BODY, line]


# ---------------------------------------------------------------------------------------- share/follow
@pytest.mark.parametrize(
    "line",
    [
        "Share on Facebook",
        "Share this article",
        "Share this:",
        "تابعونا على تويتر",
        "شارك",
        "شارك الخبر",
        "Follow us on Twitter @newsdesk",
        "فيسبوك تويتر واتساب",
        "Facebook Twitter LinkedIn Email",
        "Subscribe to our newsletter",
    ],
)
def test_share_and_follow_lines_are_removed(line: str) -> None:
    assert removed_rules(f"{EN_BODY}\n{line}\n{EN_BODY_2}") == {line: "share"}


@pytest.mark.parametrize(
    "line",
    [
        "Share prices on Wall Street fell 0.9% after the announcement.",
        "شارك في المؤتمر أكثر من 300 خبير من 40 دولة.",
        "Follow-up inspections of other ageing dams are planned for next month.",
        "تابع المدرب حديثه في المؤتمر الصحفي مؤكداً جاهزية اللاعب.",
    ],
)
def test_sentences_starting_like_share_calls_stay(line: str) -> None:
    assert kept(f"{EN_BODY}\n{line}") == [EN_BODY, line]


# ---------------------------------------------------------------------------------- chrome, outlets, io
@pytest.mark.parametrize(
    "line",
    [
        "We use cookies to improve your experience on our site. Accept all cookies",
        "© 2023 Global News Network. All rights reserved.",
        "جميع الحقوق محفوظة © 2023",
        "Most read",
    ],
)
def test_page_chrome_lines_are_removed(line: str) -> None:
    assert removed_rules(f"{EN_BODY}\n{line}") == {line: "chrome"}


def test_outlet_rules_apply_only_to_their_outlet() -> None:
    line = "اضغط هنا لمتابعة قناتنا على يوتيوب"
    result = clean_plaintext(f"{AR_BODY}\n{line}", outlet="Example-Outlet")
    assert [s.rule for s in result.removed] == ["share:outlet/example-outlet"]
    assert line not in result.paragraphs


def test_paragraphs_are_kept_as_published_only_trimmed() -> None:
    spaced = "قُتل العشرات في الهجمات الاذربيجانية  المدعومة من تركيا على كاراباخ."
    result = clean_plaintext(f"\u00a0{spaced}  \r\n\r\n\t{AR_BODY}\r\n")
    assert result.paragraphs == [spaced, AR_BODY]
    assert result.removed == []


def test_empty_text_gives_nothing() -> None:
    result = clean_plaintext("  \n\n")
    assert result.paragraphs == [] and result.removed == []


def test_multi_line_same_script_post_is_removed_but_intro_and_subheading_stay() -> None:
    post = ["Huge night.", "Thank you Budapest! pic.twitter.com/Nl9Ly1", "— Noah Lyles (@LylesNoah) August 20, 2023"]
    assert kept("\n".join([EN_BODY, *post, EN_BODY_2])) == [EN_BODY, EN_BODY_2]
    for kept_line in ("Lyles wrote on X:", "Sprint double in sight", "The ministry has not commented on the claim."):
        assert kept("\n".join([EN_BODY, kept_line, *post[1:], EN_BODY_2])) == [EN_BODY, kept_line, EN_BODY_2]


def test_a_lines_word_count_is_the_count_of_its_normalized_words() -> None:
    from wirecopy.cleaning.plaintext import _Line
    from wirecopy.cleaning.rules import normalize

    for text in ["", "   ", "one", " two  words ", "tab\tand\u00a0nbsp\u2003em", "عربي  مع\u200fعلامات", "a\u3000b\nc"]:
        norm = normalize(text)
        assert _Line(1, text, norm).words == len(norm.split())


def test_the_date_rules_early_look_at_a_lines_first_token_changes_no_answer(monkeypatch, seed_documents) -> None:
    """With `_DATE_HEAD_CHARS` = 0 the whole line is always read: the answers must be the same."""
    from wirecopy.cleaning import plaintext
    from wirecopy.cleaning.rules import load_rules, normalize

    rules = load_rules()
    lines = [normalize(line) for raw, _ in seed_documents for line in raw.content.splitlines()]
    lines += [normalize(text) for text in (
        "19 سبتمبر 2023", "منذ 3 ساعات", "Tuesday, 19 September 2023", "2023-09-19 10:00", "x" * 47 + " 2023",
        "1" * 60 + " سبتمبر", "Σ" * 46 + "Σ september 2023", "İSTANBUL 19 September", "3rd September 2023",
        "September.", "a.b.c. 2023", "",
    )]  # fmt: skip
    early = [plaintext._date_rule(line, rules) for line in lines]
    monkeypatch.setattr(plaintext, "_DATE_HEAD_CHARS", 0)
    assert early == [plaintext._date_rule(line, rules) for line in lines]
    assert any(early) and not all(early)


# ----------------------------------------------------------------------------------------- line memo
@pytest.mark.parametrize("memo_lines", [3, 1000])
def test_remembered_line_decisions_give_the_answers_of_a_fresh_rule_set(monkeypatch, memo_lines: int) -> None:
    """Short lines' decisions are kept per outlet rule set (`RuleSet.decided_for`): an outlet's own rule never
    decides a line of another outlet, and documents cleaned with the memo full, or started afresh, are cleaned as
    by a rule set that remembers nothing."""
    import wirecopy.cleaning.plaintext as plaintext
    from wirecopy.cleaning.rules import RuleSet

    def rule_set() -> RuleSet:
        return RuleSet.from_mapping({
            "lang": {"en": {"source": [r"source\s*:.*"], "months": ["September"]}},
            "outlet": {"wire": {"chrome": [r"subscribe to our newsletter"]}},
        })  # fmt: skip

    monkeypatch.setattr(plaintext, "MEMO_LINES", memo_lines)
    chrome = "Subscribe to our newsletter"
    documents = [
        (outlet, "\n".join([f"Source: agency {n % 4}", EN_BODY, chrome, f"19 September {2000 + n % 5}", EN_BODY_2]))
        for n in range(12)
        for outlet in ("wire", "other", None)
    ]
    remembering = rule_set()
    for outlet, text in documents:
        got = clean_plaintext(text, outlet=outlet, rules=remembering)
        assert got == clean_plaintext(text, outlet=outlet, rules=rule_set())
        assert (chrome in got.paragraphs) == (outlet != "wire")
    shared = remembering.decided_for("other")
    assert shared is remembering.decided_for(None) and shared is not remembering.decided_for("wire")
    assert 0 < len(shared) <= memo_lines and (memo_lines == 3 or chrome in shared)
