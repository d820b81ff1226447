"""Flow factories (``backup_flows.flows`` plugins).

Each module holds module-level ``get_flow(**plain_args)`` factories that
return an unloaded TaskFlow flow, so any process can rebuild a flow from its
plugin name and arguments.
"""
