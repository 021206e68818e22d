# Cython declarations for protocol.py (the .py stays plain Python; see setup.py).

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

@cython.locals(lines=list, i=Py_ssize_t, headers=dict)
cpdef Head parse_head(bytes head)

cpdef Invocation invocation_from(Head head, object body)
