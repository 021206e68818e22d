# Cython declarations for marshal.py (the .py stays plain Python; see setup.py).

# The type walk before orjson recurses once per container: a C call instead of a Python one.
cpdef bint _plain(object value, object leaves, int depth=*)
