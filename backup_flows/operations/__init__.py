"""Operations: validate, plan, then run a flow as a job (or post it).

The only layer that imports ``backup_flows.engine``; ``cmd`` and ``api``
call it.
"""
