# Cython declarations for marshal.py (the .py stays plain Python; see setup.py).

cimport cython

# The type walk before orjson recurses once per container: a C call instead of a Python one.
@cython.locals(members=dict, elements=list, number=double)
cpdef bint _plain(object value, object leaves, int depth=*) except -1
@cython.locals(number=double)
cdef inline bint _plain_item(object item, object leaves, int depth) except -1

cdef bint _COMPILED
cdef int _ORJSON_MAX_DEPTH
cdef Py_ssize_t _LONG_RUN

cpdef bint has_long_number(object body)

# Compiled, the body is read through a C pointer (bytes and bytearray both convert).
@cython.locals(start=Py_ssize_t, end=Py_ssize_t, k=Py_ssize_t)
cdef bint _digit_run(const unsigned char *p, Py_ssize_t size)

# Extension types instead of Python classes: a type built at import costs a third of a
# class statement's work at every cold start, and attribute reads become struct reads.
cdef class _Rejected(Exception):
    pass

cdef class _ScannerSettings:
    pass

cdef class _SimplejsonGrammar:
    cdef public object text
    cdef public object depth_left
    cdef public object whitespace
    cdef public object chunk
    cdef public object number

cdef class ReferenceEncoder:
    cdef public object quote
    cdef public bint extended

cdef class _Raw:
    cdef public object text

cdef class Marshaller:
    cdef public bint ensure_ascii
    cdef public bint extended
    cdef public ReferenceEncoder reference
    cdef public object _loads
    cdef public object _dumps
    cdef public object _default
    cdef public object _leaves
