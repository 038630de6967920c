"""Sign-in for borrowers and partners: a one-time code by SMS, exchanged for a bearer token."""
