//! Renders a finished plan as text, JSON and markdown.
