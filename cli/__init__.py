"""The `duban` command line (Typer): thin commands over the same actions as the web app."""
