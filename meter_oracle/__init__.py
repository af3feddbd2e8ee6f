"""Meter oracle daemon: turns meter counter readings into EnergyToken mints and burns, exactly once."""
