"""The ECR operations: thin handlers that unpack parameters, call the backend and build responses.

Importing `ecr_emulator.api.handlers` registers every handler with `protocol.dispatch`.
"""
