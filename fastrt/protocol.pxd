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
    cdef str _common_text
    cdef public bytes next_request

    @cython.locals(id_line=str)
    cpdef bytes response_head(self, str request_id, str content_type, Py_ssize_t length, object invocation_id)

cdef class Head:
    cdef public int status
    cdef public object raw
    cdef public dict _headers
    cdef public list fields
    cdef public Py_ssize_t content_length
    cdef public bint chunked
    cdef public bint close

cdef class ChunkedDecoder:
    cdef public list parts
    cdef public bint done
    cdef public dict trailers
    cdef bytes _pending
    cdef Py_ssize_t _remaining
    cdef int _state

@cython.locals(ch=Py_UCS4)
cpdef str _path_segment(str value)

cdef str _invocation_id_text(object invocation_id)

cpdef Head parse_head(bytes head)

@cython.locals(lines=list, i=Py_ssize_t, headers=dict)
cpdef Head parse_any_head(bytes head)

@cython.locals(p="const unsigned char *", size=Py_ssize_t, pos=Py_ssize_t, start=Py_ssize_t,
               colon=Py_ssize_t, i=Py_ssize_t, value_start=Py_ssize_t, value_end=Py_ssize_t,
               c=int, d0=int, d1=int, d2=int, status=int, length=Py_ssize_t, slot=int, seen=int,
               fields=list, parsed=Head, kinds="const unsigned char *")
cpdef object scan_plain_head(bytes head)

@cython.locals(slot=Py_ssize_t, name=bytes, q="const unsigned char *", j=Py_ssize_t, last=int)
cdef int _slot_of(const unsigned char *p, Py_ssize_t start, Py_ssize_t size)

cdef int _bodiless_length(int status)

cdef bint _COMPILED
cdef bytes _BYTE_KINDS
cdef int _NAME_BYTE
cdef int _VALUE_BYTE
cdef tuple _SLOT_NAMES
cdef Py_ssize_t _SLOT_COUNT
cdef Py_ssize_t _FIELD_COUNT
cdef Py_ssize_t _SLOT_CONTENT_LENGTH

@cython.locals(fields=list, invocation=Invocation)
cpdef Invocation invocation_from(Head head, object body)

@cython.locals(digits=Py_ssize_t)
cpdef object deadline_ms(str deadline)

# An extension type as well: built at import for a third of a class statement's work.
cdef class ProtocolError(Exception):
    pass
