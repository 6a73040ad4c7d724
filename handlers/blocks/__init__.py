"""Pure Block Kit renderers: data in, ``list[dict]`` blocks out. No I/O."""
