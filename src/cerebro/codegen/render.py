"""A pipeline as a Python script or as a Jupyter notebook: the same sections, cut the same way."""

from __future__ import annotations

import json

from cerebro.codegen.sections import Pipeline

RULE = 76  # the width of a section's heading rule


def heading(number: int, title: str) -> str:
    text = f"# {number}. {title} "
    return text + "-" * max(RULE - len(text), 3)


def script(pipeline: Pipeline) -> str:
    """The pipeline as one formatted Python script (imports first, then each section)."""
    parts = [f'"""{pipeline.header}\n"""', "\n".join(pipeline.imports())]
    for number, section in enumerate(pipeline.sections, start=1):
        if not section.code:
            continue
        words = [f"# {line}" if line else "#" for line in _wrap(section.prose)]
        parts.append("\n".join([heading(number, section.title), *words, section.code]))
    return "\n\n".join(parts) + "\n"


def _wrap(text: str) -> list[str]:
    import textwrap

    return textwrap.wrap(text, 86)


def notebook(pipeline: Pipeline) -> str:
    """The pipeline as a Jupyter notebook (nbformat 4): a markdown cell and a code cell per
    section, the imports in the first code cell."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    title, _, rest = pipeline.header.partition("\n")
    cells = [
        new_markdown_cell(f"# {title}\n\n{rest.strip()}"),
        new_code_cell("\n".join(pipeline.imports())),
    ]
    for number, section in enumerate(pipeline.sections, start=1):
        if not section.code:
            continue
        cells.append(new_markdown_cell(f"## {number}. {section.title}\n\n{section.prose}"))
        cells.append(new_code_cell(section.code))
    book = new_notebook(cells=cells)
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    book.metadata["language_info"] = {"name": "python"}
    nbformat.validate(book)
    return json.dumps(book, indent=1, ensure_ascii=False) + "\n"
