"""The content of a ring's evidence bundle: pictures and a self-contained HTML report."""
