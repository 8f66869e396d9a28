"""The HTTP server: one WSGI app for the ECR API and the /v2/ registry, and its command line."""
