"""labourwatch: monitor reporting on North Korean overseas labour — the shell (CLI, config, wiring)."""

__version__ = "0.1.0"
