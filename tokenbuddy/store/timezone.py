"""Which time zone days are counted in: a configured IANA name, else the machine's own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenbuddy.errors import ConfigError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo


def resolve_zone(name: str | None) -> ZoneInfo:
    """The named IANA zone, or the machine's local zone."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"unknown time zone {name!r} (use an IANA name like Europe/Paris)"
            ) from None
    return local_zone()


def configured_zone(name: str | None) -> tuple[ZoneInfo, list[str]]:
    """The zone the settings name (``timezone``, ``TOKENBUDDY_TIMEZONE``), else the local
    one; a name that is not a zone falls back to the local zone with a notice, as an
    invalid setting does, instead of stopping the command."""
    try:
        return resolve_zone(name), []
    except ConfigError as error:
        local = local_zone()
        return local, [f"timezone setting: {error}; days are counted in {local.key} instead"]


def zone_notice(name: str | None) -> list[str]:
    """Why the zone in use is not the one ``$TZ`` names, when it came from ``$TZ`` and
    that is not a zone name tokenbuddy can read (a POSIX rule like ``CET-1CEST``, a typo)."""
    import os
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    tz = os.environ.get("TZ", "").lstrip(":")
    if name or not tz:
        return []
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return [
            f"TZ={tz!r} is not a time zone name (like Europe/Paris); days are counted in "
            f"{local_zone().key} instead: set `timezone` in config.toml or pass --tz"
        ]
    return []


def local_zone() -> ZoneInfo:
    """The local IANA zone: ``$TZ``, else ``/etc/localtime``, else UTC."""
    import os
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    target = os.path.realpath("/etc/localtime")
    if "/zoneinfo/" in target:  # a symlink into the zone database names the zone
        try:
            return ZoneInfo(target.split("/zoneinfo/", 1)[1])
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with open("/etc/localtime", "rb") as handle:
            return ZoneInfo.from_file(handle, key="localtime")
    except (OSError, ValueError):
        return ZoneInfo("UTC")
