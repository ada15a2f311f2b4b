"""The Outlook item attached to a mail ("forward as attachment"), opened through libpff.

pypff, libpff's Python binding, gives such an attachment's stored bytes (the item's
property heap, without its body, which lies in a sub-node) but not the item. libpff
itself opens it (`libpff_attachment_get_item`), and the binding's module exports that
function and its own item constructor (`pypff_item_new`). This module calls them by
ctypes, only in the binding build whose object layout was checked (version 20260926: an
item object is the Python header, then its `libpff_item_t *`); in any other build the
item stays opaque bytes, as before. The returned object is a `pypff.message` that holds
a reference to the attachment it came from.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any

CHECKED_VERSIONS = ("20260926",)
_ITEM_OBJECT_SIZE = 40  # sizeof(pypff_item_t) in the checked build: header + 3 pointers


@functools.cache
def _library(pypff: Any) -> tuple[Any, Any, Any] | None:
    """(libpff_attachment_get_item, pypff_item_new, libpff_error_free), or None where the
    binding (the pypff module, handed in by pst.py) is not the checked build."""
    if (
        pypff.get_version() not in CHECKED_VERSIONS
        or pypff.attachment.__basicsize__ != _ITEM_OBJECT_SIZE
        or pypff.message.__basicsize__ != _ITEM_OBJECT_SIZE
    ):
        return None
    module = ctypes.PyDLL(pypff.__file__)
    try:
        get_item = module.libpff_attachment_get_item
        item_new = module.pypff_item_new
        error_free = module.libpff_error_free
    except AttributeError:
        return None
    pointer = ctypes.POINTER(ctypes.c_void_p)
    get_item.argtypes, get_item.restype = [ctypes.c_void_p, pointer, pointer], ctypes.c_int
    item_new.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.py_object]
    item_new.restype = ctypes.py_object
    error_free.argtypes, error_free.restype = [pointer], ctypes.c_int
    return get_item, item_new, error_free


def embedded_message(pypff: Any, attachment: Any) -> Any | None:
    """The message an embedded-message attachment holds, or None where it cannot be
    opened (another binding build, or libpff refused it)."""
    found = _library(pypff)
    if found is None or type(attachment) is not pypff.attachment:
        return None
    get_item, item_new, error_free = found
    handle = ctypes.c_void_p.from_address(id(attachment) + object.__basicsize__).value
    item, error = ctypes.c_void_p(), ctypes.c_void_p()
    if not handle or get_item(handle, ctypes.byref(item), ctypes.byref(error)) != 1:
        if error.value:
            error_free(ctypes.byref(error))
        return None
    if not item.value:
        return None
    # The new object owns the item (freed with it) and keeps the attachment alive.
    return item_new(id(pypff.message), item.value, attachment)
