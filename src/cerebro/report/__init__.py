"""Rendering results for people: terminal tables, HTML, plain-language text."""
