"""A function handler that needs the archive's requirements.txt installed (ember_tiny_dep)."""


def handle(data, context):
    if data is None:
        return None
    import ember_tiny_dep

    return [{"value": ember_tiny_dep.VALUE} for _ in data]
