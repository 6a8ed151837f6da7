"""Hand-written boilerplate variants injected into the corpus articles, per class, language and split.

`dev` variants were written with the rules in view; `holdout` variants were written at the same time
but the rules were NOT tuned on their results before the first measurement (see README.md).
A social entry is a block: a list of lines (text, attribution, ...), all labelled `social`.
"""

from __future__ import annotations

POOLS: dict[str, dict[str, dict[str, list]]] = {
    "ad": {
        "ar": {
            "dev": ["[ad_1]", "[ad_2]", "إعلان", "(adsbygoogle = window.adsbygoogle || []).push({});"],
            "holdout": ["[ad_3]", "مساحة إعلانية", "تابع القراءة بعد الإعلان", "- إعلان -", "ADVERTISEMENT"],
        },
        "en": {
            "dev": ["Advertisement", "[ad_1]", "Story continues below advertisement", "ADVERTISEMENT"],
            "holdout": [
                "[ad_2]",
                "Scroll to continue with content",
                "Sponsored",
                "- Advertisement -",
                "Continue reading the main story",
            ],
        },
    },
    "source": {
        "ar": {
            "dev": ["المصدر", "المصدر:", "المصدر: وكالات", "المصدر : الجزيرة + وكالات", "المصدر: رويترز"],
            "holdout": [
                "المصادر: وكالات + مواقع التواصل الاجتماعي",
                "المصدر / وكالة الأناضول",
                "الجزيرة نت + وكالات",
                "المصدر - سكاي نيوز عربية",
                "(وكالات)",
                "مصدر الخبر: فرانس برس",
            ],
        },
        "en": {
            "dev": [
                "Source: Reuters",
                "Sources: AFP, AP",
                "Reporting by Nadia El Gowely; Editing by Alex Richardson",
                "(With inputs from agencies)",
            ],
            "holdout": [
                "SOURCE: Associated Press",
                "Additional reporting by Maria Tsvetkova in Moscow and Felix Light in Tbilisi",
                "Source: BBC News",
                "Writing by Tom Balmforth; editing by Mark Heinrich",
                "This article was originally published on The Conversation.",
                "— With files from The Canadian Press",
            ],
        },
    },
    "read_also": {
        "ar": {
            "dev": [
                "اقرأ أيضا",
                "اقرأ أيضاً: أرمينيا تطلب اجتماعاً طارئاً لمجلس الأمن",
                "إقرأ أيضا: السعودية تعلن موازنة 2024 بعجز متوقع",
                "طالع أيضا: ارتفاع أسعار الذهب إلى مستوى قياسي",
            ],
            "holdout": [
                "اقرأ أيضا | الأمم المتحدة تحذر من مجاعة في غزة",
                "اقرأ المزيد: كيف تؤثر أسعار الفائدة على قروض المنازل؟",
                "شاهد أيضاً: فيديو يوثق لحظة انهيار السد",
                "مواضيع ذات صلة",
                "للمزيد: تابع تغطيتنا الخاصة",
                "يهمك أيضاً: خمس نصائح لمواجهة موجات الحر",
            ],
        },
        "en": {
            "dev": [
                "Read more: Armenia asks UN Security Council for emergency meeting",
                "READ MORE",
                "Also read: Oil hits 10-month high",
                "Related: How the Fed sets interest rates",
            ],
            "holdout": [
                "Read also",
                "RELATED COVERAGE",
                "See also: Timeline of the conflict",
                "More on this story:",
                "Recommended",
                "READ: Inside the race to build AI chips",
                "You may also like",
            ],
        },
    },
    "social": {
        "ar": {
            "dev": [
                [
                    "В Ереване протестующие пытаются прорваться к дверям здания Правительства",
                    "— SOTA (@Sota_Vision) September 19, 2023",
                    "Люди скандируют «Никол предатель!» и подходят все ближе ко входу. pic.twitter.com/3SVUKAJcwj",
                ],
                [
                    "The situation in Derna is catastrophic. Our teams are on the ground. pic.twitter.com/Ab12Cd34Ef",
                    "— IFRC (@ifrc) September 14, 2023",
                ],
            ],
            "holdout": [
                [
                    "عاجل | فرق الإنقاذ تنتشل 30 ناجيا من تحت الأنقاض في الحوز #زلزال_المغرب pic.twitter.com/Qw3rTy7",
                    "— قناة الجزيرة (@AJArabic) September 9, 2023",
                ],
                [
                    "Deeply saddened by the loss of life in Morocco. Our thoughts are with the families.",
                    "— Antony Blinken (@SecBlinken) September 9, 2023",
                ],
                ["#درنة #ليبيا", "https://t.co/9xKq2LmP0z"],
            ],
        },
        "en": {
            "dev": [
                [
                    "Наши спасатели работают круглосуточно. pic.twitter.com/Lm9Op8Qr",
                    "— МЧС России (@MchsRussia) September 12, 2023",
                ],
                [
                    "We will not stand by while civilians suffer. Europe stands ready to help https://t.co/AbCdEf123",
                    "— Ursula von der Leyen (@vonderleyen) September 20, 2023",
                ],
            ],
            "holdout": [
                ["نتابع بقلق بالغ تطورات الأوضاع في السودان", "— وزارة الخارجية (@KSAMOFA) September 14, 2023"],
                ["View this post on Instagram", "A post shared by Arsenal (@arsenal)"],
                ["Proud of the team tonight. On to the next one!", "— Bukayo Saka (@BukayoSaka87) 4 October 2023"],
            ],
        },
    },
    "date": {
        "ar": {
            "dev": ["19-سبتمبر-2023", "الثلاثاء 19 سبتمبر 2023", "2023-09-19", "نشر في: 19/09/2023 - 10:30"],
            "holdout": [
                "آخر تحديث: الثلاثاء 19 سبتمبر 2023 - 14:05 بتوقيت مكة المكرمة",
                "19 أيلول/سبتمبر 2023",
                "الأحد 24 ربيع الأول 1445 هـ - 8 أكتوبر 2023 م",
                "تاريخ النشر: 2023/10/08",
                "٨ أكتوبر ٢٠٢٣",
                "منذ 3 ساعات",
            ],
        },
        "en": {
            "dev": [
                "September 19, 2023",
                "Tuesday 19 September 2023 10:42 BST",
                "Published: 19 Sep 2023",
                "2023-09-19",
            ],
            "holdout": [
                "Updated: Sept. 19, 2023 at 3:45 p.m. ET",
                "Published On 19 Sep 2023",
                "Last updated on 20 September 2023, 08:15 GMT",
                "Wed 20 Sep 2023 14.32 BST",
                "Posted 2 hours ago",
                "19/09/2023",
            ],
        },
    },
    "tag": {
        "ar": {
            "dev": ["أذربيجان وأرمينيا", "أرمينيا، أذربيجان، روسيا", "سياسة", "الوسوم: أرمينيا - أذربيجان - كاراباخ"],
            "holdout": [
                "اقتصاد | مصر",
                "كلمات مفتاحية: الزلزال، المغرب، الحوز",
                "ليبيا والسودان",
                "الشرق الأوسط",
                "عربي ودولي",
                "تونس - صندوق النقد الدولي",
            ],
        },
        "en": {
            "dev": [
                "Armenia | Azerbaijan",
                "World",
                "Tags: Armenia, Azerbaijan, Nagorno-Karabakh",
                "Politics, Europe, Russia",
            ],
            "holdout": [
                "Topics: Interest rates, Inflation, Federal Reserve",
                "Middle East",
                "Business and Economy",
                "Africa · Libya · Climate",
                "Filed under: Football",
                "Science & Space",
            ],
        },
    },
    "caption": {
        "ar": {
            "dev": [
                "الأرمن يحتجون أمام المبنى الحكومي في وسط يريفان (كارين ميناسيان/وكالة الصحافة الفرنسية)",
                "صورة أرشيفية",
                "لاجئون يصلون إلى بلدة غوريس الحدودية (رويترز)",
                "صورة: الأناضول",
            ],
            "holdout": [
                "عمال إنقاذ يبحثون عن ناجين في قرية أمزميز (أ ف ب)",
                "(الجزيرة)",
                "مشجعون يحتفلون في الرياض - صورة من حساب النادي على إكس",
                "تعليق على الصورة، سيارات مدمرة في أحد شوارع درنة",
                "متظاهرون في الناصرية جنوبي العراق (غيتي)",
                "الصورة: رويترز",
            ],
        },
        "en": {
            "dev": [
                "Protesters gather outside the government building in Yerevan (Photo: Reuters)",
                "Getty Images",
                "Photo: AFP",
                "AP Photo/Vahram Baghdasaryan",
            ],
            "holdout": [
                "Rescuers search the rubble of a collapsed house in Moulay Brahim. "
                "Photograph: Fadel Senna/AFP/Getty Images",
                "FILE PHOTO: Azerbaijani servicemen drive military vehicles in Shusha. REUTERS/Aziz Karimov/File Photo",
                "Image caption, Residents queue for fuel in Stepanakert",
                "Smoke rises over Yellowknife (Handout via Reuters)",
                "(Getty Images)",
                "Mikel Arteta celebrates after the final whistle. "
                "(Photo by Stuart MacFarlane/Arsenal FC via Getty Images)",
            ],
        },
    },
    "share": {
        "ar": {
            "dev": ["شارك", "تابعونا على تويتر", "شارك الخبر", "تابعوا آخر الأخبار عبر قناتنا على تلغرام"],
            "holdout": [
                "فيسبوك تويتر واتساب",
                "انضموا إلى قناتنا على واتساب",
                "شاركها على: فيسبوك | إكس | واتساب",
                "اشترك في النشرة البريدية",
                "نسخ الرابط",
                "تابعنا على جوجل نيوز",
            ],
        },
        "en": {
            "dev": [
                "Share on Facebook",
                "Share this article",
                "Follow us on Twitter @newsdesk",
                "Subscribe to our newsletter",
            ],
            "holdout": [
                "Facebook Twitter LinkedIn Email",
                "Share",
                "Tweet",
                "Click to share on WhatsApp (Opens in new window)",
                "Sign up for our daily briefing",
                "Like this story? Share it with a friend",
            ],
        },
    },
}

# Page chrome around the article in HTML documents (must not reach the output at all).
CHROME: dict[str, dict[str, list[str]]] = {
    "ar": {
        "nav": ["الرئيسية", "سياسة", "اقتصاد", "رياضة", "منوعات", "اتصل بنا"],
        "sidebar": [
            "الأكثر قراءة",
            "وزير الخارجية يبحث مع نظيره التركي سبل تعزيز التعاون الاقتصادي",
            "ارتفاع أسعار الذهب في الأسواق المحلية مع تراجع الدولار",
            "منتخب مصر يتأهل إلى نهائيات كأس الأمم الأفريقية بعد فوز مثير",
        ],
        "comments": [
            "تعليق: هذا الخبر مؤلم جدا، نسأل الله الرحمة للضحايا وأن يلطف بأهلنا هناك",
            "أحمد من القاهرة: متى ستتحرك الحكومة لمعالجة الأزمة بشكل جدي؟",
        ],
        "footer": ["جميع الحقوق محفوظة © 2023 شبكة الأخبار العربية", "سياسة الخصوصية", "من نحن"],
        "cookie": ["نستخدم ملفات تعريف الارتباط لتحسين تجربتك على موقعنا. موافق"],
    },
    "en": {
        "nav": ["Home", "World", "Business", "Sport", "Culture", "Contact us"],
        "sidebar": [
            "Most read",
            "Opinion: why central banks keep getting inflation wrong",
            "Ten cheap holiday destinations you have never heard of",
            "Club confirms manager will stay until the end of the season",
        ],
        "comments": [
            "This is heartbreaking. Thoughts with everyone affected by this terrible disaster.",
            "JohnD: Why did nobody inspect those dams for twenty years? Someone must answer for it.",
        ],
        "footer": ["© 2023 Global News Network. All rights reserved.", "Privacy policy", "About us"],
        "cookie": ["We use cookies to improve your experience on our site. Accept all cookies"],
    },
}

# Related-story blocks placed INSIDE the content container of "messy" HTML pages (class read_also).
RELATED: dict[str, list[str]] = {
    "ar": [
        "الحكومة تعلن خطة جديدة لدعم الأسر المتضررة من ارتفاع الأسعار",
        "خبراء: الاقتصاد العالمي يواجه أصعب اختبار منذ الأزمة المالية",
        "بالصور: آلاف المتطوعين يشاركون في حملة تنظيف الشواطئ",
    ],
    "en": [
        "Government unveils new plan to help families hit by rising prices",
        "Experts say the global economy faces its toughest test since the financial crisis",
        "In pictures: thousands of volunteers join beach clean-up",
    ],
}

# Author box at the end of the content container of "messy" HTML pages (class chrome).
BIO: dict[str, str] = {
    "ar": "محمد العلي صحفي متخصص في الشؤون الاقتصادية والسياسية، عمل مراسلاً في عدة عواصم عربية.",
    "en": "Sarah Collins is a senior correspondent covering economics and politics for the newsroom.",
}

# A data table that IS article content in "messy" HTML pages (first cells are gold body text).
TABLE: dict[str, list[tuple[str, str]]] = {
    "ar": [
        ("عدد الضحايا المؤكد وفق الأرقام الرسمية", "2012"),
        ("عدد النازحين من منازلهم حتى الآن", "نحو 50 ألفاً"),
        ("عدد فرق الإنقاذ الدولية العاملة على الأرض", "4"),
    ],
    "en": [
        ("Confirmed deaths according to official figures", "2,012"),
        ("People displaced from their homes so far", "about 50,000"),
        ("International rescue teams working on the ground", "4"),
    ],
}

# Second holdout, written after the first round of tuning and measured before any further change.
HOLDOUT2: dict[str, dict[str, list]] = {
    "ad": {
        "ar": ["[ad_5]", "إعلانات", "- - إعلان - -", "Advertisements"],
        "en": [
            "ADVERTISING",
            "[ad_7]",
            "Ad",
            "Article continues after this advertisement",
            "AD - CONTENT CONTINUES BELOW",
        ],
    },
    "source": {
        "ar": ["المصدر: الأناضول", "المصدر: مواقع إلكترونية", "المصدر : RT", "المصدر: سبوتنيك"],
        "en": [
            "Source: Al Jazeera and news agencies",
            "(Reuters)",
            "— Reuters",
            "AFP contributed to this report.",
            "The Associated Press contributed to this report.",
        ],
    },
    "read_also": {
        "ar": ["اقرأ أيضًا:", "إقرأ ايضاً", "مقالات مقترحة", "اقرأ كذلك: الأمم المتحدة تدعو إلى هدنة إنسانية"],
        "en": [
            "READ ALSO:",
            "Also Read | Europe's heatwave breaks records",
            "Related Stories",
            "MORE: Inside the world's largest solar farm",
            "Related Article: What the new rules mean",
        ],
    },
    "social": {
        "ar": [
            [
                "سپاه پاسداران حمله به پایگاه را تایید کرد pic.twitter.com/Zx81Pq",
                "— Tasnim (@Tasnimnews_Fa) October 1, 2023",
            ],
            [
                "Breaking: explosion reported near the central market https://t.co/a1B2c3D4",
                "— BNO News (@BNONews) September 25, 2023",
            ],
        ],
        "en": [
            [
                "Nous condamnons fermement cette attaque. pic.twitter.com/Fr45Gh",
                "— Emmanuel Macron (@EmmanuelMacron) September 19, 2023",
            ],
            ["Huge night.", "Thank you Budapest! pic.twitter.com/Nl9Ly1", "— Noah Lyles (@LylesNoah) August 20, 2023"],
        ],
    },
    "date": {
        "ar": ["الخميس، 5 أكتوبر 2023 09:15 ص", "05 أكتوبر 2023 - 20 ربيع الأول 1445", "2023/10/05 08:30 م"],
        "en": [
            "Oct 5, 2023, 9:15 AM EDT",
            "5th October 2023",
            "Thursday, October 05, 2023",
            "Last Modified: Thursday, 5 October 2023 09:15 AM",
        ],
    },
    "tag": {
        "ar": ["أخبار | العالم العربي", "رياضة، كرة قدم", "المغرب - زلزال", "أوكرانيا وروسيا"],
        "en": [
            "News / World / Europe",
            "Sport > Football",
            "Ukraine, Russia",
            "Tags Armenia Azerbaijan",
            "Climate crisis",
        ],
    },
    "caption": {
        "ar": ["جانب من الدمار الذي خلفه الزلزال (الأناضول)", "(صورة: رويترز)", "تصوير: أحمد حسن"],
        "en": [
            "A damaged building in Kyiv. (Reuters: Gleb Garanich)",
            "Photo: Supplied",
            "Credit: AP",
            "Picture: Getty",
            "Image: BBC",
        ],
    },
    "share": {
        "ar": ["شارك المقال عبر:", "تابعونا على فيسبوك وتويتر", "للاشتراك في قناتنا على يوتيوب اضغط هنا", "مشاركة"],
        "en": [
            "Share via Email",
            "Share this:",
            "Follow @newsdesk on X",
            "Get the latest news delivered to your inbox",
            "Copy link",
        ],
    },
}

for _cls, _langs in HOLDOUT2.items():
    for _lang, _variants in _langs.items():
        POOLS[_cls][_lang]["holdout2"] = _variants
