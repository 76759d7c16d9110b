"""The service's own plumbing, below every other app of ours: it imports none of them, and all may use it."""
