"""The one scoring path: every place that scores rows (gate, HTTP server, batch engines) uses it.

enrich (lookups) -> enforce the input schema -> input guards -> predict -> output guards
"""
