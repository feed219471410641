"""Profiles: the names that own samples and personal model versions, checked before they reach a path."""

from __future__ import annotations

import re

DEFAULT_PROFILE = "me"
# Letters (any script), digits, "_" and "-": safe as a folder name, never "." or "/".
_PROFILE_RE = re.compile(r"^\w[\w-]{0,31}$")


def validate_profile(name: object) -> str:
    """Return ``name`` stripped when it is a valid profile name (1-32 letters, digits, _ or -), else ValueError."""
    text = name.strip() if isinstance(name, str) else None
    if not text or not _PROFILE_RE.fullmatch(text):
        shown = repr(name)[:40]
        raise ValueError(f"invalid profile name {shown}: use 1-32 letters, digits, '_' or '-'")
    return text
