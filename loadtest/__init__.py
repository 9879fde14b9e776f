"""Load test for cookiegate: ``python -m loadtest.run`` (``--quick`` for the CI smoke run)."""
