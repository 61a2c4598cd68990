"""The back office: admin pages, NLU retraining and analytics."""
