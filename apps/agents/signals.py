"""`run_finished(agent, status, result)`: sent once a run's outcome is recorded, for the apps built on agents (an
issue whose resolver completed is resolved) without agents knowing them."""
from django.dispatch import Signal

run_finished = Signal()
