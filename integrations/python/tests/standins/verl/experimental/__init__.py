"""Stand-in package: see the modules inside, written from the trainer's documented signatures."""
