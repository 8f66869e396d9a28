"""Load the ECR service model that botocore ships; the model is data read at start-up."""

import functools

import botocore.model
import botocore.session

SERVICE_NAME = "ecr"
TARGET_PREFIX = "AmazonEC2ContainerRegistry_V20150921"


@functools.lru_cache(maxsize=None)
def service_model() -> botocore.model.ServiceModel:
    """Return the newest ECR model installed with botocore."""
    return botocore.session.get_session().get_service_model(SERVICE_NAME)


def operation_names() -> list[str]:
    return list(service_model().operation_names)


@functools.lru_cache(maxsize=None)
def error_shapes() -> dict[str, botocore.model.StructureShape]:
    """Return every error shape of the model by its name, which is also its wire code."""
    shapes: dict[str, botocore.model.StructureShape] = {}
    for operation_name in operation_names():
        for shape in service_model().operation_model(operation_name).error_shapes:
            shapes[shape.name] = shape
    return shapes
