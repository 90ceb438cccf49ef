"""CLI command groups, one module each; they call the packages and print, holding no business logic."""
