"""The field app's unit tests (vitest: the outbox's ordering, retry, backoff, duplicate-as-sent and
photo-after-visit rules, and the API client's token rotation), run here so CI counts them."""

import json

from tests.field_app_support import WEB, ensure_node_modules, npx


def test_vitest_suite_passes(tmp_path):
    ensure_node_modules()
    report = tmp_path / "vitest.json"
    run = npx("vitest", "run", "--reporter=json", f"--outputFile={report}")
    assert report.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads(report.read_text())
    failures = [
        f"{test['fullName']}: {' '.join(test.get('failureMessages', []))[:500]}"
        for suite in results["testResults"]
        for test in suite["assertionResults"]
        if test["status"] != "passed"
    ]
    assert not failures, "\n".join(failures)
    assert run.returncode == 0, run.stderr[-3000:]
    names = {suite["name"].removeprefix(str(WEB) + "/") for suite in results["testResults"]}
    assert "field/src/lib/outbox.test.ts" in names
    assert results["numPassedTests"] >= 15
