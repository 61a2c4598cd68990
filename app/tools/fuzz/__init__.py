"""API fuzzing (issue 8 point 1): schemathesis against the gateway's own OpenAPI schema."""
