"""The function every Python row serves: it returns the event, so the response must equal the event."""


def handler(event, context):
    return event
