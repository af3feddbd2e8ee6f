"""Security checks of the project that are not tests of one package (static analysis of the contracts)."""
