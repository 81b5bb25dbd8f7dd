"""The manager's dashboard, computed on the device from its replica, against the server's
coverage report (``GET /api/reports/coverage``) for the same manager and the demo data.

The dashboard (``pwa/src/manager/stats.ts``) and the report (``server/reports/``) use the
same definitions (local days in the manager's time zone, visits since Monday and since the
1st, satisfaction over the last 90 days, complaint age in whole days), so every figure a
manager reads on the tablet is the one the server reports.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.pages import ApiUser, App

pytestmark = pytest.mark.e2e

MANAGER = "liang.hui"  # South China: no other browser test writes there


class Cell:
    """One table cell: its leading text (the figure) and the badge beside it, if any."""

    def __init__(self, figure: str, badge: str, text: str) -> None:
        self.figure = figure.strip().replace(",", "")
        self.badge = badge.strip()
        self.text = text.strip()


def figures(tablet: Any, demo_server: Any) -> tuple[dict[str, dict[str, Cell]], dict[str, Any]]:
    """Per rep id, the dashboard's cells under their headings; and the server's report."""
    manager = App(tablet.new_page()).login(MANAGER)
    manager.wait_for_first_sync()
    manager.set_language("en")
    manager.sync_now()
    manager.go("/dashboard")
    table = manager.page.get_by_test_id("rep-table")
    table.wait_for()
    headings = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    shown: dict[str, dict[str, Cell]] = {}
    for row in table.get_by_test_id("rep-row").all():
        cells = row.locator("td").evaluate_all(
            "tds => tds.map(td => [td.childNodes[0]?.textContent ?? '',"
            " td.querySelector('.badge')?.textContent ?? '', td.textContent])"
        )
        shown[str(row.get_attribute("data-rep-id"))] = {
            heading: Cell(*cell) for heading, cell in zip(headings, cells, strict=True)
        }
    api = ApiUser(demo_server.url, MANAGER)
    try:
        report = api.get("/api/reports/coverage")
    finally:
        api.close()
    assert report["reps"], "the demo region has reps"
    assert set(shown) == {r["rep_id"] for r in report["reps"]}
    return shown, report


def percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100)}%"


def test_dashboard_figures_match_the_coverage_report(tablet: Any, demo_server: Any) -> None:
    shown, report = figures(tablet, demo_server)
    mismatches = []
    for rep in report["reps"]:
        cells = shown[rep["rep_id"]]
        tiers = {t["tier"]: t for t in rep["coverage"]}
        expected = {
            "Customers": str(rep["customers"]),
            "Covered A": percent(tiers["A"]["share"]),
            "Covered B": percent(tiers["B"]["share"]),
            "Covered C": percent(tiers["C"]["share"]),
            "Overdue": str(rep["overdue"]),
            "No plan": str(rep["forgotten"]),
            "Gifts this year": f"CN¥{Decimal(rep['gift_spend_this_year'])}",
            "Open complaints": str(rep["open_complaints"]),
        }
        for heading, value in expected.items():
            if cells[heading].figure != value:
                mismatches.append(
                    f"{rep['username']} {heading}: screen {cells[heading].figure!r}, server {value!r}"
                )
        over_cap = cells["Gifts this year"].badge or "0"
        if over_cap != str(rep["gifts_over_cap"]):
            mismatches.append(
                f"{rep['username']} gifts over cap: screen {over_cap}, server {rep['gifts_over_cap']}"
            )
        days = rep["oldest_open_complaint_days"]
        pairs = [
            ("Visits this week", cells["Visits this week"].figure, str(rep["visits_this_week"])),
            ("Visits this month", cells["Visits this month"].figure, str(rep["visits_this_month"])),
            ("oldest complaint", cells["Open complaints"].text,
             f"{rep['open_complaints']}" + ("" if days is None else f" ({days} days)")),
        ]
        mismatches += [f"{rep['username']} {h}: screen {a!r}, server {b!r}" for h, a, b in pairs if a != b]
        score, server = cells["Satisfaction"].figure, rep["avg_satisfaction_90d"]
        # The screen shows one decimal of its own average; the report gives two.
        if (score == "—") != (server is None) or (
            server is not None and abs(float(score) - server) > 0.055
        ):
            mismatches.append(f"{rep['username']} satisfaction: screen {score}, server {server}")
    assert not mismatches, "\n".join(mismatches)
