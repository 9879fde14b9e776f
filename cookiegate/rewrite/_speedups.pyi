from collections.abc import Container

API: int
NAMES: tuple[tuple[bytes, ...], ...]

def skip(buf: bytes, pos: int, plain: Container[bytes] | None, /) -> int: ...
def has_explicit_markup(data: bytes, /) -> bool: ...
