"""The browser faces of lendflow: the staff console (`/console`); the borrower's and partner's pages come next.
They sit on top of the API (DESIGN.md's floors): pages call the API's own routes in-process with the signed-in
staff member's identity, so roles, validation, audit and every money movement are the API's, never a copy."""
