"""Whose law a debtor's case is under (their country and region), apart from the language they write in."""
