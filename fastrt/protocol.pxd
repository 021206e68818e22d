# Cython declarations for protocol.py (the .py stays plain Python; see setup.py).

cimport cython

cdef class Invocation:
    cdef public object request_id
    cdef public object deadline_ms
    cdef public object function_arn
    cdef public object trace_id
    cdef public object client_context
    cdef public object cognito_identity
    cdef public object tenant_id
    cdef public object invocation_id
    cdef public object content_type
    cdef public object body

cdef class Renderer:
    cdef bytes _common
    cdef public bytes next_request

cdef class Head:
    cdef public int status
    cdef public dict headers
    cdef public object content_length
    cdef public bint chunked
    cdef public bint close

cdef class ChunkedDecoder:
    cdef public list parts
    cdef public bint done
    cdef public dict trailers
    cdef bytes _pending
    cdef Py_ssize_t _remaining
    cdef int _state

cpdef Head parse_head(bytes head)

@cython.locals(lines=list, i=Py_ssize_t, headers=dict)
cpdef Head parse_any_head(bytes head)

@cython.locals(p="const unsigned char *", size=Py_ssize_t, pos=Py_ssize_t, start=Py_ssize_t,
               colon=Py_ssize_t, i=Py_ssize_t, value_start=Py_ssize_t, value_end=Py_ssize_t,
               c=int, d0=int, d1=int, d2=int, status=int, headers=dict, length=Py_ssize_t,
               raw_name=bytes, name=object)
cpdef object scan_plain_head(bytes head)

cdef bint _COMPILED
cdef dict _LOWER_NAMES

cpdef Invocation invocation_from(Head head, object body)
