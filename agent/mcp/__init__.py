"""spacesmith as an MCP server: its Space calls, splat fixes, gallery, site and deploy as
tools for any MCP client (Claude Code, Cursor, tiny-agents), over stdio.

- :mod:`.catalog`: each tool's name, description and JSON schema (what a model reads);
- :mod:`.progress`: one tool call's progress out and cancellation in;
- :mod:`.spaces`: the Space side (discovery policy, cached calls, the image → splat chain);
- :mod:`.local`: the local side (splats, gallery, site, preview, deploy);
- :mod:`.preview`: the site on a loopback URL whose page reloads itself after a rebuild;
- :mod:`.server`: the MCP protocol (the SDK's low-level server), stdio, errors, scrubbing.
"""
