"""Demo data: checklists (part of `manage.py seed_demo`). Idempotent: a second run adds nothing.

Two real checklists, in Arabic and English, drafted and published through the checklist services:

* the COVID-19 precautionary measures for shops and markets, as municipal inspectors checked them in
  2020-2021 (masks, distancing, sanitiser, temperature checks, Tawakkalna at the door, capacity,
  cleaning log, trolleys and baskets);
* the general food-shop hygiene and licence checklist (licence, health certificates, cold-chain
  temperatures, pests, cleanliness, expiry dates, storage, signage, waste).

Fines are in SAR and plausible for the municipal penalties table; they are demo figures, not the
official schedule.
"""

from inspections.demo.records import demo_only, demo_record
from inspections.models import Category, Checklist, ChecklistVersion
from inspections.services.checklists import checklist_item_add, checklist_version_draft, checklist_version_publish

CATEGORIES = {
    "grocery": ("بقالة", "Grocery"),
    "supermarket": ("سوبرماركت", "Supermarket"),
    "restaurant": ("مطعم", "Restaurant"),
    "cafe": ("مقهى", "Cafe"),
    "bakery": ("مخبز", "Bakery"),
    "butcher": ("ملحمة", "Butcher"),
    "fish-market": ("محل أسماك", "Fish shop"),
    "sweets": ("محل حلويات", "Sweet shop"),
    "market-stall": ("بسطة سوق", "Market stall"),
    "pharmacy": ("صيدلية", "Pharmacy"),
    "salon": ("صالون حلاقة", "Barber shop"),
    "mall": ("مجمع تجاري", "Shopping mall"),
}
# The COVID-19 measures applied to every shop and market; the hygiene checklist to those selling food.
EVERY_SHOP = list(CATEGORIES)
FOOD = ["grocery", "supermarket", "restaurant", "cafe", "bakery", "butcher", "fish-market", "sweets", "market-stall"]
DINING = ["restaurant", "cafe"]
HANDLING = ["restaurant", "cafe", "bakery", "butcher", "fish-market", "sweets"]
COLD_CHAIN = ["grocery", "supermarket", "restaurant", "butcher", "fish-market"]
TROLLEYS = ["supermarket", "grocery", "mall"]

YES_NO = "yes_no_na"


def item(code, text_ar, text_en, severity, fine, *, photo=False, categories=None, **extra) -> dict:
    return {
        "code": code,
        "text_ar": text_ar,
        "text_en": text_en,
        "answer_type": extra.pop("answer_type", YES_NO),
        "severity": severity,
        "fine_sar": fine,
        "photo_required_on_fail": photo,
        "category_codes": categories or [],
        # Every demo item points at the SAMPLE violation catalogue (enforcement/data/sample_catalogue.csv).
        "violation_code": f"SMP-{code}",
        **extra,
    }


COVID = {
    "code": "covid19-shops",
    "name_ar": "الإجراءات الاحترازية لمواجهة فيروس كورونا (كوفيد-19) في المحلات والأسواق",
    "name_en": "COVID-19 precautionary measures for shops and markets",
    "description_ar": "التحقق من تطبيق الإجراءات الاحترازية والبروتوكولات الوقائية في المنشآت التجارية.",
    "description_en": "Checks that commercial establishments apply the COVID-19 precautionary protocols.",
    "categories": EVERY_SHOP,
    "items": [
        item(
            "CV-01",
            "جميع العاملين يرتدون الكمامة بشكل صحيح (تغطي الأنف والفم)",
            "All staff wear a face mask correctly (covering nose and mouth)",
            "major",
            1000,
            photo=True,
        ),
        item(
            "CV-02",
            "عدم السماح بدخول المتسوقين دون ارتداء الكمامة",
            "Customers without a face mask are not let in",
            "major",
            1000,
        ),
        item(
            "CV-03",
            "وجود ملصقات التباعد الجسدي (1.5 متر) على الأرضيات وعند نقاط المحاسبة",
            "Physical-distancing floor markers (1.5 m) in place, including at the tills",
            "minor",
            500,
            photo=True,
        ),
        item(
            "CV-04",
            "تنظيم الطوابير عند المدخل ونقاط المحاسبة مع المحافظة على التباعد",
            "Queues at the entrance and tills are organised with distancing kept",
            "minor",
            500,
        ),
        item(
            "CV-05",
            "توفر معقم الأيدي عند المدخل وعند نقاط المحاسبة",
            "Hand sanitiser available at the entrance and at the tills",
            "major",
            1000,
            photo=True,
        ),
        item(
            "CV-06",
            "قياس درجة حرارة العاملين والمتسوقين عند المدخل",
            "Temperature of staff and customers checked at the entrance",
            "major",
            2000,
        ),
        item(
            "CV-07",
            "التحقق من الحالة الصحية عبر تطبيق توكلنا عند الدخول",
            "Health status checked in the Tawakkalna app at the door",
            "critical",
            5000,
        ),
        item(
            "CV-08",
            "الإعلان عن الطاقة الاستيعابية القصوى للمنشأة في مكان ظاهر عند المدخل",
            "Maximum capacity posted visibly at the entrance",
            "minor",
            500,
            photo=True,
        ),
        item(
            "CV-09",
            "نسبة الإشغال وقت الزيارة من الطاقة الاستيعابية المعلنة",
            "Occupancy at the time of the visit, as a share of the posted capacity",
            "major",
            2000,
            answer_type="number",
            min_value=0,
            max_value=100,
            unit="%",
        ),
        item(
            "CV-10",
            "سجل التنظيف والتعقيم محدث (مرة كل ساعتين على الأقل)",
            "Cleaning and disinfection log up to date (at least every two hours)",
            "minor",
            500,
        ),
        item(
            "CV-11",
            "تعقيم عربات وسلال التسوق بعد كل استخدام",
            "Trolleys and baskets disinfected after each use",
            "major",
            1000,
            categories=TROLLEYS,
        ),
        item(
            "CV-12",
            "ترك مسافة لا تقل عن 3 أمتار بين الطاولات وعدم تجاوز 5 أشخاص للطاولة",
            "Tables at least 3 m apart and no more than 5 people per table",
            "major",
            2000,
            categories=DINING,
        ),
        item(
            "CV-13",
            "استخدام قوائم طعام إلكترونية أو ورقية لمرة واحدة",
            "Digital or single-use paper menus only",
            "minor",
            500,
            categories=DINING,
        ),
        item(
            "CV-14",
            "منع العامل الذي تظهر عليه أعراض تنفسية من العمل وإبلاغ الجهات الصحية (937)",
            "A worker with respiratory symptoms is kept off work and reported to the health authority (937)",
            "critical",
            5000,
        ),
        item(
            "CV-15",
            "توفر وسائل الدفع الإلكتروني وتشجيع استخدامها",
            "Contactless payment available and encouraged",
            "minor",
            200,
            required=False,
        ),
        item(
            "CV-16",
            "استخدام أدوات الحلاقة والمناشف لمرة واحدة وتعقيم الأدوات بعد كل عميل",
            "Single-use razors and towels; tools disinfected after every customer",
            "major",
            1000,
            categories=["salon"],
        ),
    ],
}

FOOD_HYGIENE = {
    "code": "food-hygiene-licence",
    "name_ar": "الاشتراطات الصحية والترخيص لمحلات الأغذية",
    "name_en": "Food-shop hygiene and licence",
    "description_ar": "الرخصة البلدية والشهادات الصحية وسلامة الغذاء والنظافة في محلات الأغذية.",
    "description_en": "Municipal licence, health certificates, food safety and cleanliness in food shops.",
    "categories": FOOD,
    "items": [
        item(
            "FH-01",
            "رخصة البلدية سارية ومعلقة في مكان ظاهر",
            "Valid municipal licence displayed in a visible place",
            "major",
            2000,
            photo=True,
        ),
        item(
            "FH-02",
            "جميع العاملين يحملون شهادات صحية سارية",
            "Every worker holds a valid health certificate",
            "major",
            1000,
        ),
        item(
            "FH-03",
            "درجة حرارة الثلاجات",
            "Refrigerator temperature",
            "critical",
            3000,
            photo=True,
            categories=COLD_CHAIN,
            answer_type="number",
            min_value=0,
            max_value=5,
            unit="°C",
        ),
        item(
            "FH-04",
            "درجة حرارة المجمدات",
            "Freezer temperature",
            "major",
            2000,
            categories=COLD_CHAIN,
            answer_type="number",
            max_value=-18,
            unit="°C",
        ),
        item(
            "FH-05",
            "خلو المنشأة من الحشرات والقوارض ووجود عقد مكافحة آفات ساري",
            "No sign of insects or rodents, and a valid pest-control contract",
            "critical",
            5000,
            photo=True,
        ),
        item(
            "FH-06",
            "مستوى النظافة العامة للمنشأة",
            "General cleanliness of the premises",
            "major",
            1000,
            photo=True,
            answer_type="choice",
            choices=["excellent", "good", "poor", "very_poor"],
            failing_choices=["poor", "very_poor"],
            choice_labels={
                "excellent": {"ar": "ممتاز", "en": "Excellent"},
                "good": {"ar": "جيد", "en": "Good"},
                "poor": {"ar": "ضعيف", "en": "Poor"},
                "very_poor": {"ar": "ضعيف جداً", "en": "Very poor"},
            },
        ),
        item(
            "FH-07",
            "عدم وجود منتجات منتهية الصلاحية أو مجهولة المصدر",
            "No expired products or products of unknown origin",
            "critical",
            5000,
            photo=True,
        ),
        item(
            "FH-08",
            "تخزين المواد الغذائية على أرفف مرتفعة عن الأرض 15 سم على الأقل وبعيداً عن المنظفات",
            "Food stored on shelves at least 15 cm off the floor and away from cleaning products",
            "minor",
            500,
        ),
        item(
            "FH-09",
            "فصل اللحوم النيئة عن الأطعمة الجاهزة للأكل",
            "Raw meat kept apart from ready-to-eat food",
            "major",
            2000,
            categories=["restaurant", "butcher", "supermarket", "fish-market"],
        ),
        item(
            "FH-10",
            "توفر مغسلة أيدي مزودة بالصابون والمناشف الورقية",
            "Hand-wash basin with soap and paper towels",
            "major",
            1000,
        ),
        item(
            "FH-11",
            "العاملون يرتدون زياً نظيفاً وغطاء للشعر وقفازات عند تداول الغذاء",
            "Staff wear clean uniforms, hair covers and gloves when handling food",
            "minor",
            500,
            categories=HANDLING,
        ),
        item(
            "FH-12",
            "اللوحة التجارية مطابقة للاشتراطات ولبيانات الرخصة",
            "Shop sign complies with the rules and matches the licence",
            "minor",
            500,
        ),
        item(
            "FH-13",
            "حاويات النفايات مغطاة ونظيفة وتُفرغ يومياً",
            "Waste bins covered, clean and emptied daily",
            "minor",
            500,
        ),
        item(
            "FH-14",
            "منع التدخين داخل المنشأة",
            "No smoking inside the premises",
            "major",
            1000,
        ),
    ],
}

CHECKLISTS = [COVID, FOOD_HYGIENE]


def _categories() -> dict[str, Category]:
    categories = {}
    for code, (name_ar, name_en) in CATEGORIES.items():
        categories[code], created = Category.objects.get_or_create(
            code=code, defaults={"name_ar": name_ar, "name_en": name_en}
        )
        if created:
            demo_record([categories[code]])
    return categories


def seed(*, stdout=None) -> None:
    """Create both checklists with a published version 1 (skipped when already published)."""
    categories = _categories()
    for spec in CHECKLISTS:
        if Checklist.objects.filter(code=spec["code"]).exclude(pk__in=demo_only(Checklist.objects.all())).exists():
            if stdout is not None:
                stdout.write(f"  checklist {spec['code']} exists and is not the demo's: left alone")
            continue
        checklist, created = Checklist.objects.get_or_create(
            code=spec["code"],
            defaults={
                "name_ar": spec["name_ar"],
                "name_en": spec["name_en"],
                "description_ar": spec["description_ar"],
                "description_en": spec["description_en"],
            },
        )
        if created:
            demo_record([checklist])
        checklist.categories.add(*[categories[code] for code in spec["categories"]])
        if checklist.versions.filter(status=ChecklistVersion.Status.PUBLISHED).exists():
            continue
        draft = checklist.versions.filter(status=ChecklistVersion.Status.DRAFT).first()
        if draft is None:
            draft = checklist_version_draft(actor=None, checklist=checklist, notes="Demo seed")
        existing = set(draft.items.values_list("code", flat=True))
        for position, values in enumerate(spec["items"], start=1):
            if values["code"] not in existing:
                checklist_item_add(actor=None, version=draft, position=position, **values)
        checklist_version_publish(actor=None, version=draft)
        if stdout is not None:
            stdout.write(f"  checklist {checklist.code}: version {draft.number}, {len(spec['items'])} items")
