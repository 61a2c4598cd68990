"""Adversarial tests (issue 14): each finding of the attacker's review as a named test, mostly on the
real processes."""
