"""The AWS JSON 1.1 wire format for ECR, driven by botocore's service model.

This package knows operations, shapes and errors, not repositories or images:

    HTTP request --parser.parse_request--> (OperationModel, params)
                 --dispatch.Dispatcher-->  handler(context, **snake_case_params) -> dict
                 --serializer-->           HTTP response (JSON per output shape, or an error body)
"""
