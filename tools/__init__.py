"""spacesmith's tools: Space discovery and calls, splats, the gallery site, deploy.

Nothing here imports ``agent``: these are plain functions a CodeAgent (or a person) calls.
"""
