"""Views of the same result data: terminal (rich), Gradescope results.json, Markdown."""
