"""The money rules of lending: products, schedules, the loan engine. Pure: the same inputs give the same outputs."""
