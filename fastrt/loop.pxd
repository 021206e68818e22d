# Cython declarations for loop.py (the .py stays plain Python; see setup.py).

cdef class Runtime:
    cdef public object config
    cdef public object transport
    cdef public object handler
    cdef public bint streaming
    cdef public object marshaller
    cdef public object contexts
    cdef public object environ
    cdef public bint fast_path
    cdef public Py_ssize_t served
