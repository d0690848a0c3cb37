"""A handler that cannot load: its module fails on import, as a handler with a missing dependency does."""
import ember_no_such_module  # noqa: F401


def handle(data, context):
    return [None for _ in data or []]
