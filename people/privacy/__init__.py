"""Keeping personal and payment data out of places it must not be."""
