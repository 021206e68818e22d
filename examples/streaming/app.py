"""Response streaming: chunks reach the caller as they are produced.

    _HANDLER=app.handler      a generator of text chunks
    _HANDLER=app.url_handler  a function URL answer (status, headers, cookies, then the body)
"""

import time

import fastrt
from fastrt.stream import HttpResponse


@fastrt.streaming(content_type="text/plain; charset=utf-8")
def handler(event, context):
    for i in range(int(event.get("count", 3))):
        yield "line %d\n" % i
        time.sleep(float(event.get("pause", 0)))


@fastrt.streaming
def url_handler(event, context):
    def page():
        yield "<html><body>"
        for word in ("streamed", "from", "Lambda"):
            yield "<p>%s</p>" % word
        yield "</body></html>"

    return HttpResponse(page(), status_code=200, headers={"Content-Type": "text/html"}, cookies=["visited=1"])
