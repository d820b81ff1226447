"""JSON schemas of the API's request bodies: one module per resource.

Each holds JSON Schema 2020-12 documents (plain dicts), one per request
body and microversion range, checked by ``util.extract_json``.
"""
