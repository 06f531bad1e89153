"""FastAPI app (JSON API, web pages, stop page, report form), the CLI and the scheduler wiring."""
