"""Service-neutral plumbing: request context, per-account state, time and events."""
