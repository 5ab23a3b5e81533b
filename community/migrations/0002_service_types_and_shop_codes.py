"""The report types offered on Open311, and a public code for every establishment that exists already
(new establishments get theirs when first asked for, see services/shops.py)."""

import secrets

from django.db import migrations

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

SERVICE_TYPES = [
    {
        "code": "food-hygiene",
        "name_ar": "نظافة الغذاء",
        "name_en": "Food hygiene",
        "description_ar": "أوساخ أو حشرات أو سوء حفظ للأغذية في محل أو مطعم.",
        "description_en": "Dirt, pests or food kept badly in a shop or restaurant.",
        "group": "health",
        "keywords": "hygiene,food,pests,نظافة,غذاء",
        "attributes": [],
    },
    {
        "code": "expired-products",
        "name_ar": "منتجات منتهية الصلاحية",
        "name_en": "Expired products",
        "description_ar": "منتجات معروضة للبيع بعد انتهاء صلاحيتها.",
        "description_en": "Products on sale past their expiry date.",
        "group": "health",
        "keywords": "expired,expiry,منتهي,صلاحية",
        "attributes": [
            {
                "variable": True,
                "code": "product",
                "datatype": "string",
                "required": False,
                "datatype_description": "Product name / اسم المنتج",
                "order": 1,
                "description": "Which product? / ما المنتج؟",
            }
        ],
    },
    {
        "code": "covid-precautions",
        "name_ar": "عدم تطبيق الإجراءات الاحترازية",
        "name_en": "COVID-19 precautions not applied",
        "description_ar": "لا كمامات ولا تباعد ولا تعقيم ولا فحص حرارة عند الدخول.",
        "description_en": "No masks, distancing, sanitiser or temperature checks at the door.",
        "group": "health",
        "keywords": "covid,masks,كورونا,كمامة,تباعد",
        "attributes": [],
    },
    {
        "code": "unlicensed-activity",
        "name_ar": "نشاط بدون ترخيص",
        "name_en": "Unlicensed activity",
        "description_ar": "نشاط تجاري يعمل بلا ترخيص بلدي ظاهر.",
        "description_en": "A business operating without a visible municipal licence.",
        "group": "licensing",
        "keywords": "licence,unlicensed,ترخيص,رخصة",
        "attributes": [],
    },
    {
        "code": "price-display",
        "name_ar": "عدم إعلان الأسعار",
        "name_en": "Prices not displayed",
        "description_ar": "أسعار غير معلنة أو مخالفة للمعلن.",
        "description_en": "Prices missing or different from those displayed.",
        "group": "consumer",
        "keywords": "price,prices,سعر,أسعار",
        "attributes": [
            {
                "variable": True,
                "code": "shown_price",
                "datatype": "number",
                "required": False,
                "datatype_description": "Price shown (SAR) / السعر المعلن",
                "order": 1,
                "description": "Price shown / السعر المعلن",
            }
        ],
    },
]


def seed(apps, schema_editor):
    ServiceType = apps.get_model("community", "ServiceType")
    for position, values in enumerate(SERVICE_TYPES):
        ServiceType.objects.update_or_create(code=values["code"], defaults={**values, "position": position})

    Establishment = apps.get_model("inspections", "Establishment")
    ShopCode = apps.get_model("community", "ShopCode")
    taken = set(ShopCode.objects.values_list("code", flat=True))
    missing = Establishment.objects.filter(public_code__isnull=True).values_list("id", flat=True).iterator(2000)
    batch = []
    for establishment_id in missing:
        code = "".join(secrets.choice(ALPHABET) for _ in range(10))
        while code in taken:
            code = "".join(secrets.choice(ALPHABET) for _ in range(10))
        taken.add(code)
        batch.append(ShopCode(establishment_id=establishment_id, code=code))
        if len(batch) >= 2000:
            ShopCode.objects.bulk_create(batch)
            batch = []
    ShopCode.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [("community", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
