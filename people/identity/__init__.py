"""Identity verification before any disclosure: reference + date of birth, with lockout."""
