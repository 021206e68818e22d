# Cython declarations for transport.py (the .py stays plain Python; see setup.py).

from fastrt.protocol cimport Head, Invocation, Renderer

cdef class SocketTransport:
    cdef public object address
    cdef public object user_agent
    cdef public object host
    cdef public object port
    cdef public int connections
    cdef Renderer _render
    cdef bytes _next_request
    cdef public object _sock
    cdef public bytes _rest
    cdef public bint _answered

cdef class Stream:
    cdef SocketTransport _transport
    cdef public Py_ssize_t bytes_sent
