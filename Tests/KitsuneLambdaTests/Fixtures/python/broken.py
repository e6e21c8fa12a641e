# Fails while the module is imported (init phase).
raise RuntimeError("broken at import time")


def handler(event, context):
    return "never"
