"""Domain rules (SPEC §4): pure functions from tickets + config + history to state.

No I/O and no clock: the as-of date and any history are parameters. `compute_state` in
`state.py` composes the others.
"""
