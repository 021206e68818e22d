# Cython declarations for transport.py (the .py stays plain Python; see setup.py).

cimport cython

from fastrt.protocol cimport Head, Invocation, Renderer, invocation_from, parse_head

# An extension type as well: built at import for a third of a class statement's work.
cdef class ConnectionLost(Exception):
    pass

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
    cdef bint _pipelining
    cdef bint _next_sent
    cdef bint _event_small

    @cython.locals(attempt=int, head=Head, body=object)
    cpdef Invocation next_invocation(self)
    cpdef tuple post_response(self, str request_id, object body, str content_type, object invocation_id)

    # The per-event calls stay in C; _exchange is also used by the Extensions API client.
    cpdef tuple _exchange(self, bytes head, object body, bytes ahead=*)
    cdef tuple _exchange_aside(self, bytes head, object body)
    cdef bytes _ahead(self, object body)
    cdef tuple _post(self, bytes head, object body, bytes ahead=*)
    cdef _connect(self)
    cdef _send(self, bytes head, object body, bytes ahead=*)
    @cython.locals(buf=bytes, data=bytes, scanned=Py_ssize_t, end=Py_ssize_t, start=Py_ssize_t,
                   stop=Py_ssize_t, interim=int, head=Head)
    cdef tuple _read_answer(self)
    @cython.locals(have=Py_ssize_t, got=Py_ssize_t)
    cdef _read_exact(self, bytes prefix, Py_ssize_t size)
    @cython.locals(have=Py_ssize_t)
    cdef bytes _read_exact_unbounded(self, bytes prefix, Py_ssize_t size)
    cdef tuple _read_chunked(self, bytes data)
    cdef bytes _read_until_close(self, bytes prefix)

cdef class Stream:
    cdef SocketTransport _transport
    cdef public Py_ssize_t bytes_sent
