"""Lambda Managed Instances: with AWS_LAMBDA_MAX_CONCURRENCY=N, fastrt runs N worker
processes, each serving one event at a time. Nothing in the handler changes; /tmp is
shared between the workers, module state is not.
"""

import os
import time


def handler(event, context):
    time.sleep(float(event.get("sleep", 0)))
    return {"worker_pid": os.getpid(), "request_id": context.aws_request_id}
