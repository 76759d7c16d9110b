#!/usr/bin/env python
"""Django's command-line utility for administrative tasks (installed, the same is the `tessera` command)."""
from config.cli import main

if __name__ == "__main__":
    main()
