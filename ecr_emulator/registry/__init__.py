"""The Docker Registry HTTP API v2 and OCI Distribution surface at /v2/, on the backend's state."""
