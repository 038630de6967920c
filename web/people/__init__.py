"""What the borrower's account (/account) and the partner's office (/partner) share: the session an SMS code opens,
the person's language and time zone, the templates that speak it, and the API called as them."""
