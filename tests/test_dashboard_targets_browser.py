"""Targets per scope on the indicators page, in real headless Chromium: Arabic leadership reads where
each target comes from (Dammam's own, the Amanah's for Khobar, the national default); an English admin
sets an Amanah target from the Amanah's view and removes Dammam's own, which then falls back to the
Amanah's; an admin sets a class C target on class-C Khobar's card and Khobar's light follows it, in
English and Arabic, on a phone and a desktop; leadership switches the table's rows to municipality
classes (kept in the address, the CSV and the PDF). The world and its figures: tests/test_analytics_targets.py.
Screenshots: var/screenshots/."""

import pytest

from analytics.models import IndicatorTarget
from inspections.models import Membership
from tests.browser_support import (
    CHROMIUM,
    PHONE,
    SCREENSHOTS,
    chromium_browser,
    screen_saved,
    single_threaded_live_server_on_sqlite,
)
from tests.test_analytics_indicators import world  # noqa: F401 - the hand-computed world
from tests.test_analytics_targets import siblings  # noqa: F401 - Khobar with two shops
from tests.test_dashboard_indicators_browser import DESKTOP, card_text, loads, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/install-chromium.sh)"),
]

single_threaded_live_server_on_sqlite()


@pytest.fixture
def scoped_targets(siblings, amanah):  # noqa: F811
    IndicatorTarget.objects.create(code="coverage", target=0.9)
    IndicatorTarget.objects.create(code="coverage", municipality=amanah, target=0.6, amber_margin=0.05)
    IndicatorTarget.objects.create(code="coverage", municipality=siblings["dammam"], target=0.45)
    IndicatorTarget.objects.create(code="violation_rate", target=0.3, amber_margin=0.1)
    return siblings


def cell_title(page, row: int, column: int) -> str:
    return page.get_attribute(f"#i-breakdown tbody tr:nth-child({row}) td:nth-of-type({column})", "title") or ""


def test_arabic_leadership_reads_where_each_target_comes_from(live_server, leader, scoped_targets):
    leader.membership.language = Membership.Language.AR
    leader.membership.save()
    dammam = scoped_targets["dammam"]
    with chromium_browser() as browser:
        for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page, errors = sign_in(browser, live_server, "leader", viewport)
            # The whole Amanah: coverage 3 of 6 = 50% against the Amanah's 60% (its own): red.
            page.goto(f"{live_server.url}/dashboard/indicators/?month=2026-10")
            loads(page, 1)
            coverage = card_text(page, "coverage")
            assert "الهدف: 60.0" in coverage and "مصدر الهدف: أمانة المنطقة الشرقية" in coverage
            assert "موروث" not in coverage and "دون الهدف" in coverage
            violation = card_text(page, "violation_rate")
            assert "مصدر الهدف: وطني (موروث)" in violation
            # Per municipality, each cell says its target and origin (Dammam's own, Khobar's inherited).
            titles = " | ".join(cell_title(page, row, 1) for row in (1, 2))
            assert "45.0" in titles and "الدمام" in titles and "60.0" in titles and "موروث" in titles
            screen_saved(page, f"indicators-targets-ar-{name}")
            # Dammam alone: its own 45%, met.
            page.goto(f"{live_server.url}/dashboard/indicators/?month=2026-10&municipality={dammam.id}")
            loads(page, 1)
            coverage = card_text(page, "coverage")
            assert "الهدف: 45.0" in coverage and "مصدر الهدف: الدمام" in coverage and "يحقق الهدف" in coverage
            assert page.locator(".ind-set").count() == 0  # leadership reads targets; admins set them
            page.screenshot(path=str(SCREENSHOTS / f"indicators-targets-ar-dammam-{name}.png"), full_page=True)
            assert errors == [], errors
            page.close()


def test_an_admin_sets_an_amanah_target_and_removes_a_municipalitys_own(
    live_server, admin_user, amanah, scoped_targets
):
    dammam = scoped_targets["dammam"]
    with chromium_browser() as browser:
        page, errors = sign_in(browser, live_server, "admin_user", DESKTOP)
        # Dammam: its own 45% shows, with a button to remove it.
        page.goto(f"{live_server.url}/dashboard/indicators/?month=2026-10&municipality={dammam.id}")
        loads(page, 1)
        assert "Target from: Dammam" in card_text(page, "coverage")
        page.click('article.indicator[data-code="coverage"] details.ind-set summary')
        form = '.target-form[data-code="coverage"]'
        assert page.locator(f"{form} select[name=municipality] option").all_text_contents() == [
            "Dammam",
            "National",
            *(f"Class {code}" for code in "ABCDE"),
        ]
        page.click(f"{form} .remove-target")
        loads(page, 2)
        # Removed: Dammam falls back to the Amanah's 60% (inherited), 50% is red.
        page.wait_for_selector('article.indicator[data-code="coverage"][data-light="red"]')
        text = card_text(page, "coverage")
        assert "Target: 60.0%" in text and "Target from: Eastern Province Amanah (inherited)" in text
        assert "Target removed." in text
        page.screenshot(path=str(SCREENSHOTS / "indicators-targets-en-removed.png"), full_page=True)
        # The Amanah's view: set its coverage target to 50% (margin 0): the 50% now meets it.
        page.goto(f"{live_server.url}/dashboard/indicators/?month=2026-10&municipality={amanah.id}")
        loads(page, 1)
        page.click('article.indicator[data-code="coverage"] details.ind-set summary')
        page.fill(f"{form} input[name=target]", "50")
        page.fill(f"{form} input[name=amber_margin]", "0")
        page.select_option(f"{form} select[name=municipality]", str(amanah.id))
        page.click(f"{form} button[type=submit]")
        loads(page, 2)
        page.wait_for_selector('article.indicator[data-code="coverage"][data-light="green"]')
        text = card_text(page, "coverage")
        assert "Target: 50.0%" in text and "Target from: Eastern Province Amanah" in text and "(inherited)" not in text
        screen_saved(page, "indicators-targets-en-desktop")
        page.set_viewport_size(PHONE)
        screen_saved(page, "indicators-targets-en-phone")
        assert errors == [], errors
    # What the page wrote (the ORM waits until Playwright's event loop is gone).
    assert not IndicatorTarget.objects.filter(code="coverage", municipality=dammam).exists()
    target = IndicatorTarget.objects.get(code="coverage", municipality=amanah)
    assert (target.target, target.amber_margin) == (0.5, 0.0)
    assert IndicatorTarget.objects.get(code="coverage", municipality=None).target == 0.9  # untouched


@pytest.fixture
def class_c_khobar(siblings, amanah):  # noqa: F811
    """Khobar class C; coverage targets: national 0.9 and Dammam's own 0.45, no Amanah target, so
    Khobar's 0.5 (1 of 2 shops) is red against the national default until class C gets one."""
    khobar = siblings["khobar"]
    khobar.municipality_class = "C"
    khobar.save()
    IndicatorTarget.objects.create(code="coverage", target=0.9)
    IndicatorTarget.objects.create(code="coverage", municipality=siblings["dammam"], target=0.45)
    return siblings


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            Membership.Language.EN,
            {"national": "Target from: National (inherited)", "class": "Target from: Class C (inherited)",
             "target": "Target: 40.0%", "option": "Class C", "saved": "Target saved.",
             "khobar": "Khobar", "nation": "National"},
        ),
        (
            Membership.Language.AR,
            {"national": "مصدر الهدف: وطني (موروث)", "class": "مصدر الهدف: الفئة C (موروث)",
             "target": "الهدف: 40.0", "option": "الفئة C", "saved": "حُفظ الهدف.",
             "khobar": "الخبر", "nation": "وطني"},
        ),
    ],
)  # fmt: skip
def test_an_admin_sets_a_class_target_and_a_class_c_municipality_follows_it(
    live_server, admin_user, amanah, class_c_khobar, language, texts
):
    admin_user.membership.language = language
    admin_user.membership.save()
    khobar = class_c_khobar["khobar"]
    card = 'article.indicator[data-code="coverage"]'
    form = '.target-form[data-code="coverage"]'
    with chromium_browser() as browser:
        for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page, errors = sign_in(browser, live_server, "admin_user", viewport)
            # Khobar alone: 50% against the national 90%, red.
            page.goto(f"{live_server.url}/dashboard/indicators/?month=2026-10&municipality={khobar.id}")
            loads(page, 1)
            page.wait_for_selector(f'{card}[data-light="red"]')
            assert texts["national"] in card_text(page, "coverage")
            page.click(f"{card} details.ind-set summary")
            options = page.locator(f"{form} select[name=municipality] option").all_text_contents()
            assert options[:2] == [texts["khobar"], texts["nation"]]
            assert texts["option"] in options and len(options) == 7  # Khobar, National, Class A..E
            page.fill(f"{form} input[name=target]", "40")
            page.fill(f"{form} input[name=amber_margin]", "0")
            page.select_option(f"{form} select[name=municipality]", "class:C")
            page.click(f"{form} button[type=submit]")
            loads(page, 2)
            # Class C's 40%: Khobar's 50% meets it, and the card says where the target came from.
            page.wait_for_selector(f'{card}[data-light="green"]')
            text = card_text(page, "coverage")
            assert texts["target"] in text and texts["class"] in text and texts["saved"] in text, text
            screen_saved(page, f"indicators-class-target-{language}-{name}")
            # The whole scope: Khobar's cell follows class C (green, its origin in the title); Dammam
            # keeps its own 45%.
            page.goto(f"{live_server.url}/dashboard/indicators/?month=2026-10")
            loads(page, 1)
            khobar_cell = page.locator('#i-breakdown td[data-target-class="C"]')
            assert khobar_cell.count() == 1 and khobar_cell.get_attribute("data-light") == "green"
            assert texts["option"] in (khobar_cell.get_attribute("title") or "")
            assert texts["option"] in khobar_cell.inner_text()  # visible too: a phone shows no titles
            screen_saved(page, f"indicators-class-target-{language}-all-{name}")
            # Removed again from Khobar's card (the button names the class): back to national, red,
            # so the desktop pass starts where the phone pass did.
            page.goto(f"{live_server.url}/dashboard/indicators/?month=2026-10&municipality={khobar.id}")
            loads(page, 1)
            page.click(f"{card} details.ind-set summary")
            page.click(f'{form} .remove-target[data-scope="class:C"]')
            loads(page, 2)
            page.wait_for_selector(f'{card}[data-light="red"]')
            assert errors == [], errors
            page.close()
    assert not IndicatorTarget.objects.exclude(municipality_class="").exists()
    assert IndicatorTarget.objects.get(code="coverage", municipality=None, municipality_class="").target == 0.9


def row_cells(page) -> list[dict]:
    """The breakdown's rows as drawn: the label, and each cell's text and light."""
    return page.evaluate(
        """() => [...document.querySelectorAll('#i-breakdown tbody tr')].map((tr) => ({
            label: tr.querySelector('th').textContent,
            cells: [...tr.querySelectorAll('td')].map((td) => ({text: td.innerText, light: td.dataset.light})),
        }))"""
    )


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            Membership.Language.EN,
            {"by_municipality": "By municipality", "by_amanah": "By Amanah", "by_class": "By municipality class",
             "column": "Municipality class", "labels": ["Class A", "Class C"], "rows": "Rows",
             "column_municipality": "Municipality"},
        ),
        (
            Membership.Language.AR,
            {"by_municipality": "حسب البلدية", "by_amanah": "حسب الأمانة", "by_class": "حسب فئة البلدية",
             "column": "فئة البلدية", "labels": ["الفئة A", "الفئة C"], "rows": "الصفوف",
             "column_municipality": "البلدية"},
        ),
    ],
)  # fmt: skip
def test_leadership_reads_the_breakdown_by_municipality_class(live_server, leader, class_c_khobar, language, texts):
    """Dammam (class A, 2 of 4 shops covered, 2 of 4 visits violating, its own 45% coverage target)
    and Khobar (class C, 1 of 2 covered, 0 of 1 violating, the national 90%): "Rows: by municipality
    class" draws one row per class with the API's figures; the address keeps the choice, a reload
    reopens it, the CSV and PDF follow it; an unknown rows= in the address falls back to municipality;
    by Amanah, the single row stays shown with its choice."""
    leader.membership.language = language
    leader.membership.save()
    with chromium_browser() as browser:
        for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page, errors = sign_in(browser, live_server, "leader", viewport)
            page.goto(f"{live_server.url}/dashboard/indicators/?month=2026-10")
            loads(page, 1)
            assert page.text_content("#i-breakdown-title") == texts["by_municipality"]
            assert page.locator("#i-breakdown tbody tr").count() == 2  # Dammam and Khobar
            assert page.text_content("#i-breakdown thead th") == texts["column_municipality"]
            assert texts["rows"] in page.text_content("#i-breakdown-card .inline-select")
            page.select_option("#i-rows", "municipality_class")
            loads(page, 2)
            assert page.text_content("#i-breakdown-title") == texts["by_class"]
            assert page.text_content("#i-breakdown thead th") == texts["column"]
            drawn = row_cells(page)
            assert [row["label"] for row in drawn] == texts["labels"]
            # What the API returns for the same month and grouping, in the page's language.
            body = page.evaluate(
                """(lang) => fetch('/api/v1/analytics/indicators?month=2026-10&group_by=municipality_class',
                    {headers: {'Accept': 'application/json', 'Accept-Language': lang}}).then((r) => r.json())""",
                language,
            )
            api = {row["key"]: row["indicators"] for row in body["rows"]}
            assert [row["label"] for row in body["rows"]] == texts["labels"]
            # By hand: class A is Dammam, class C is Khobar.
            assert (api["A"]["coverage"]["value"], api["A"]["violation_rate"]["value"]) == (0.5, 0.5)
            assert (api["C"]["coverage"]["value"], api["C"]["violation_rate"]["value"]) == (0.5, 0.0)
            assert (api["A"]["coverage"]["light"], api["C"]["coverage"]["light"]) == ("green", "red")
            codes = [definition["code"] for definition in body["definitions"]]
            for row, key in zip(drawn, ("A", "C"), strict=True):
                assert [cell["light"] for cell in row["cells"]] == [api[key][code]["light"] or "none" for code in codes]
                for code in ("coverage", "violation_rate"):
                    shown = row["cells"][codes.index(code)]["text"].split("\n")[0]
                    assert f"{api[key][code]['value'] * 100:.1f}" in shown, (key, code, shown)
            assert "0.0" in drawn[1]["cells"][codes.index("violation_rate")]["text"].split("\n")[0]
            assert "rows=municipality_class" in page.url and "month=2026-10" in page.url
            for link in ("#i-csv", "#i-pdf"):
                assert "group_by=municipality_class" in page.get_attribute(link, "href")
            box = page.locator("#i-rows").bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
            screen_saved(page, f"indicators-rows-class-{language}-{name}")
            # A reload (or the link) reopens the same rows.
            page.reload()
            loads(page, 1)
            assert page.input_value("#i-rows") == "municipality_class"
            assert page.text_content("#i-breakdown-title") == texts["by_class"]
            assert [row["label"] for row in row_cells(page)] == texts["labels"]
            assert "group_by=municipality_class" in page.get_attribute("#i-csv", "href")
            # An unknown value in the address: by municipality, and the address says so.
            page.goto(f"{live_server.url}/dashboard/indicators/?month=2026-10&rows=district")
            loads(page, 1)
            assert page.input_value("#i-rows") == "municipality"
            assert page.text_content("#i-breakdown-title") == texts["by_municipality"]
            assert page.locator("#i-breakdown tbody tr").count() == 2
            assert "rows=" not in page.url
            assert "group_by=municipality&" in page.get_attribute("#i-csv", "href") + "&"
            # By Amanah: the leader's one Amanah is a single row, shown (so the choice can be undone).
            page.select_option("#i-rows", "amanah")
            loads(page, 2)
            assert page.text_content("#i-breakdown-title") == texts["by_amanah"]
            assert page.is_visible("#i-breakdown-card") and page.locator("#i-breakdown tbody tr").count() == 1
            assert "rows=amanah" in page.url and "group_by=amanah" in page.get_attribute("#i-pdf", "href")
            assert errors == [], errors
            page.close()
