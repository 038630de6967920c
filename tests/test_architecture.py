"""The seam as docs/architecture.md draws it, checked on the source: floors import downward only, workflows call
activities by reference, one chart of accounts, one source for each list of choices, no float near money."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from api.products.schemas import NewVersion
from api.staff.affiliate import ProjectRequest
from config import Settings
from contracts.origination import OriginationTimings
from domain.accounts import HouseAccount
from domain.affiliate.revenue import AccrualMode, RevenueRule

ROOT = Path(__file__).resolve().parent.parent
# Each floor and the floors below it that it may import (docs/architecture.md).
FLOORS: dict[str, set[str]] = {
    "config": set(),
    "domain": set(),
    "contracts": {"domain"},
    "store": {"config", "domain", "contracts"},
    "providers": {"config", "domain", "contracts"},
    "services": {"config", "domain", "contracts", "store", "providers"},
    "activities": {"config", "domain", "contracts", "store", "providers", "services"},
    "workflows": {"config", "domain", "contracts", "activities"},
    "api": {"config", "domain", "contracts", "store", "providers", "services", "workflows"},
    "web": {"config", "domain", "contracts", "store", "providers", "services", "workflows", "api"},
}
PRODUCT_CODE = [*FLOORS, "workers"]


def sources(*folders: str) -> list[Path]:
    return [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py")) if "migrations" not in p.parts]


def test_every_floor_imports_only_the_floors_below_it() -> None:
    wrong = []
    for floor, allowed in FLOORS.items():
        for path in sources(floor):
            for node in ast.walk(ast.parse(path.read_text())):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module]
                    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                    else []
                )
                for name in names:
                    root = name.split(".")[0]
                    if root in PRODUCT_CODE and root != floor and root not in allowed:
                        wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert wrong == []


@pytest.mark.parametrize(
    "pattern",
    [
        r"\b_act\(",  # the old string-named helper
        r"execute_activity\(\s*[\"']",  # an activity named by a string
        r"assert isinstance",  # a result's type recovered by hand
    ],
)
def test_workflows_call_activities_by_reference(pattern: str) -> None:
    found = [
        f"{p.relative_to(ROOT)}: {line.strip()}"
        for p in sources("workflows")
        for line in p.read_text().splitlines()
        if re.search(pattern, line)
    ]
    assert found == []


def test_no_account_purpose_is_spelled_outside_the_chart() -> None:
    purposes = "|".join(p.value for p in HouseAccount)
    spelled = re.compile(rf"[\"'](house:)?({purposes})[\"':]")
    found = [
        f"{p.relative_to(ROOT)}: {line.strip()}"
        for p in sources(*PRODUCT_CODE)
        if p.name != "accounts.py"
        for line in p.read_text().splitlines()
        if spelled.search(line)
    ]
    assert found == []


def test_no_formatter_escapes_and_no_float_near_money() -> None:
    skipped = [p for p in sources(*PRODUCT_CODE, "tests", "bench") if "fmt: " + "skip" in p.read_text()]
    assert skipped == []
    floats = [
        f"{p.relative_to(ROOT)}: {line.strip()}"
        for p in sources("domain", "contracts", "services", "activities", "api", "store")
        for line in p.read_text().splitlines()
        if "float(" in line
    ]
    # The one float: the APR solver (a rate found by bisection, rounded to two decimals), never an amount.
    assert [f for f in floats if not f.startswith("domain/lending/schedule.py")] == []


def test_lists_of_choices_come_from_the_domain() -> None:
    schema = ProjectRequest.model_json_schema()
    defs = schema.get("$defs", {})
    assert set(defs["RevenueRule"]["enum"]) == {r.value for r in RevenueRule}
    assert set(defs["AccrualMode"]["enum"]) == {m.value for m in AccrualMode}
    assert "RepaymentKind" in str(NewVersion.model_json_schema())
    # The database's CHECK (a migration, frozen history) still names the same choices.
    migration = (ROOT / "store/migrations/versions/0007_affiliate.py").read_text()
    assert f"revenue IN ({', '.join(repr(r.value) for r in RevenueRule)})" in migration
    assert f"accrual IN ({', '.join(repr(m.value) for m in AccrualMode)})" in migration


def test_every_origination_timing_is_a_setting() -> None:
    assert set(OriginationTimings.model_fields) <= set(Settings.model_fields)
