"""`python -m config COMMAND`: manage.py's commands, also where there is no manage.py (an installed package).

`migration-assistant serve` (config/serve/production.py) runs its release (migrate, collectstatic) and its worker
cluster this way, so it serves the same from a checkout and from `pip install .`.
"""
from config.cli import main

if __name__ == "__main__":
    main()
