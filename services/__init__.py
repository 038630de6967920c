"""Use cases: each function owns its transaction or works inside the caller's, and is what routes, pages, activities
and seed data call, so none of them repeats the rules (../shared/DESIGN.md)."""
