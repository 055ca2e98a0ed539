"""Small shared utilities with no knowledge of spiking networks or RL: files written atomically, argument checks."""
