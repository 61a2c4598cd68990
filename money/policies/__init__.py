"""Collection policy (allocation order, payment plans, promises) per locale and creditor."""
