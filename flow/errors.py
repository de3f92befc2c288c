"""The user's configuration error and how its messages show a key: below the configuration schema, so the
checks that need the model's shape (``flow.precision``, ``flow.hls.plan``) raise it without importing it."""


class ConfigError(Exception):
    """A user error in the configuration; ``str()`` is the message printed to the user."""


def shown_key(part) -> str:
    """A key of an error path as written, quoted when it would not read as one (empty, spaces, '=')."""
    text = str(part)
    return text if text and text.isprintable() and not any(c.isspace() or c == "=" for c in text) else repr(part)
