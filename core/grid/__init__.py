"""The grid tree: rules in services.py, pages in views.py."""
