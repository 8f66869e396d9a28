"""The ECR domain: registries, repositories, images, uploads and tokens. No HTTP, no botocore."""
