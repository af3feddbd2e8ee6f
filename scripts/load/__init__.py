"""Load-test scenarios and their report format, shared by scripts/loadtest.py and the Locust file in tests/load."""
