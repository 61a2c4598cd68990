"""`make reliability` (issue 8): adversarial checks that print tried / rejected / lost / leaked."""
