"""The gallery site template, shipped as package data (index.html.j2, viewer JS/CSS, package.json)."""
