"""moto_server with its recorder on: every request it receives (headers and body, as sent) is appended to
$MOTO_RECORDER_FILEPATH, one JSON object a line. moto's server answers on several threads and its
recorder writes a line in more than one write, so the lines are written one at a time here. The role test
(tests/roles.rs) reads the file. Run by scripts/with-moto with the virtualenv's python.

One fix to moto itself: its TransactWriteItems deep-copies the table (to roll back) while other threads
use it (a read of a missing key adds it), and then fails with a 500 ("dictionary changed size during
iteration"), which DynamoDB never does. DynamoDB requests are handled one at a time here (each is atomic
on DynamoDB anyway); the queues, with their long polls, are untouched."""
import os
import sys
import threading

os.environ.setdefault("MOTO_ENABLE_RECORDING", "True")

from moto.moto_api._internal.recorder.models import Recorder  # noqa: E402
from moto.server import main  # noqa: E402

_lock = threading.Lock()
_record = Recorder._record_request


def _record_one_at_a_time(self, request, body=None):
    with _lock:
        _record(self, request, body)


Recorder._record_request = _record_one_at_a_time

from moto.dynamodb.responses import DynamoHandler  # noqa: E402

_dynamodb = threading.RLock()
_call_action = DynamoHandler.call_action


def _one_call_at_a_time(self):
    with _dynamodb:
        return _call_action(self)


DynamoHandler.call_action = _one_call_at_a_time

if __name__ == "__main__":
    sys.exit(main())
