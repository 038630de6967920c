"""The search attributes operators find processes by in the Temporal UI and `temporal workflow list --query`:
a customer's processes (`LendflowCustomerId="<user id>"`), an application by its status, a loan's processes,
a product's applications, a project's commission processes. Registered in the namespace before use: the dev
server and the tests register them at start, `lendflow temporal-setup` in a self-hosted cluster
(docs/operations.md); their values are ids and statuses, never personal data."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

CUSTOMER_ID = SearchAttributeKey.for_keyword("LendflowCustomerId")
APPLICATION_STATUS = SearchAttributeKey.for_keyword("LendflowApplicationStatus")
LOAN_ID = SearchAttributeKey.for_keyword("LendflowLoanId")
PRODUCT = SearchAttributeKey.for_keyword("LendflowProduct")
PROJECT = SearchAttributeKey.for_keyword("LendflowProject")
ALL = (CUSTOMER_ID, APPLICATION_STATUS, LOAN_ID, PRODUCT, PROJECT)
# The marker under which workflows began to keep their attributes up to date (older histories replay without).
SEARCH_ATTRIBUTES_PATCH = "search-attributes"


def attributes(**values: str | None) -> TypedSearchAttributes:
    """`attributes(customer_id=..., loan_id=...)`: the pairs whose value is set."""
    keys = {
        "customer_id": CUSTOMER_ID,
        "application_status": APPLICATION_STATUS,
        "loan_id": LOAN_ID,
        "product": PRODUCT,
        "project": PROJECT,
    }
    return TypedSearchAttributes(
        [SearchAttributePair(keys[name], str(value)) for name, value in values.items() if value is not None]
    )
