"""Projects as the user knows them: a working directory shown by its last component."""


def project_name(path: str) -> str:
    """A project's display name: the last component of its working directory."""
    trimmed = path.rstrip("/\\")
    return trimmed.replace("\\", "/").rsplit("/", 1)[-1] if trimmed else "(unknown)"
