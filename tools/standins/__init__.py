"""Local stand-in Spaces: real Gradio apps on 127.0.0.1 serving agents.md beside them."""
