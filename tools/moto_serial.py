"""moto's server mode with every request applied one at a time.

moto_server answers on several threads but does not lock its DynamoDB
backend, so two concurrent `ADD`s on one item can lose an update (seen in
shared/tests: 40 parallel records summed to 0.39 instead of 0.40). Real
DynamoDB applies each write, condition and transaction atomically; holding
one lock around each request gives the emulator the same guarantee while
clients still connect and send concurrently.

usage: python moto_serial.py HOST PORT
"""

import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serial(environ, start_response):
        with lock:
            # Drain the body inside the lock: the backend may work lazily.
            return [b"".join(app(environ, start_response))]

    run_simple(host, port, serial, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
