"""The files a config names, read and checked at load (``labourwatch.config``) so that a loaded Config holds
nothing that can fail later: the known-claims file and the routes' apprise config files."""

from __future__ import annotations

from pathlib import Path

from analysis.claims.model import Claim, ClaimDataError, claims_from_yaml_data
from labourwatch.schema import ConfigModel
from labourwatch.yamlsafe import YamlInputError, check_yaml_limits, decode_utf8, load_yaml_file


def read_claims(path: Path) -> list[Claim]:
    """The claims of a known_claims.yaml file; ValueError saying what is wrong (cannot read, not UTF-8, not
    YAML, aliases or nesting past the limits of ``labourwatch.yamlsafe``, not claims data)."""
    data = load_yaml_file(path)  # YamlInputError, a ValueError: cannot read, not UTF-8, not valid or too big
    try:
        return claims_from_yaml_data(data)
    except ClaimDataError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def known_claims(model: ConfigModel, base: Path, problems: list[str]) -> tuple[Claim, ...] | None:
    """The configured claims file, read and checked now: matching against a stale or broken set is worse
    than refusing to start."""
    if not model.claims.file:
        return None
    try:
        return tuple(read_claims((base / model.claims.file).resolve()))
    except ValueError as exc:
        problems.append(f"claims.file: {exc}")
        return None


def apprise_config_urls(model: ConfigModel, base: Path, secrets: set[str],
                        problems: list[str]) -> dict[str, tuple[str, ...]]:
    """The destination URLs of routes that name an apprise config file (filtered by the route's tags)."""
    found: dict[str, tuple[str, ...]] = {}
    for index, route in enumerate(model.alerts.routes):
        if not route.apprise_config:
            continue
        where = f"alerts.routes[{index}].apprise_config"
        path = (base / route.apprise_config).resolve()
        if not path.is_file():
            problems.append(f"{where}: {path} does not exist")
            continue
        try:  # apprise parses the file with PyYAML's own loader: refuse alias bombs and deep nesting first
            check_yaml_limits(decode_utf8(path.read_bytes(), str(path)), str(path))
        except (OSError, YamlInputError) as exc:
            problems.append(f"{where}: {exc}")
            continue
        import apprise  # only configs that use this pay for importing apprise

        loaded = apprise.AppriseConfig()
        targets = apprise.Apprise()
        if not loaded.add(str(path)) or not targets.add(loaded):
            problems.append(f"{where}: apprise cannot read {path}")
            continue
        urls = tuple(dict.fromkeys(server.url(privacy=False) for server in targets.find(tag=route.tags or "all")))
        if not urls:
            tags = f" with tag(s) {', '.join(route.tags)}" if route.tags else ""
            problems.append(f"{where}: no URLs{tags} in {path}")
            continue
        secrets.update(urls)  # they may hold tokens and passwords; keep them out of logs
        found[route.name] = urls
    return found
