"""Personal data in free text (card numbers, IBANs, national ids): found and masked before anything is stored or logged."""
