"""moto_server with its recorder on: every request it receives (headers and body, as sent) is appended to
$MOTO_RECORDER_FILEPATH, one JSON object a line. moto's server answers on several threads and its
recorder writes a line in more than one write, so the lines are written one at a time here. The role test
(tests/roles.rs) reads the file. Run by scripts/with-moto with the virtualenv's python."""
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

if __name__ == "__main__":
    sys.exit(main())
