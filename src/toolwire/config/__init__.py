"""The ``toolwire.toml`` loader shared by the CLI commands (see ``docs/configuration.md``)."""

from toolwire.config._loader import Config, ConfigError, find_config, load_config, parse_config
from toolwire.config._tools import load_tools

__all__ = ["Config", "ConfigError", "find_config", "load_config", "load_tools", "parse_config"]
