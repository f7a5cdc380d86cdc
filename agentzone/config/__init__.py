"""Configuration: YAML files → validated, typed model of the landing zone."""

from .loader import CONFIG_DIR_ENV, default_config_dir, load_landing_zone
from .model import LandingZone, Organization, Tenant
from .source import ConfigError, Problem

__all__ = [
    "CONFIG_DIR_ENV",
    "ConfigError",
    "LandingZone",
    "Organization",
    "Problem",
    "Tenant",
    "default_config_dir",
    "load_landing_zone",
]
