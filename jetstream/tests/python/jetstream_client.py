"""Reads `network.bsky.jetstream.subscribeEvents` with the Python atproto
SDK's Jetstream client and prints each message it parsed as one JSON line.

Usage: jetstream_client.py BASE_URI COUNT FRAMES_FILE

BASE_URI is the server's `ws://host:port/xrpc`; the client reads from cursor
0 (every event the server keeps), stops after COUNT messages, and writes the
text frames it received, one per line, to FRAMES_FILE.
"""

import json
import sys

from atproto_client.models.utils import get_model_as_dict
from atproto_jetstream import JetstreamClient


def main() -> None:
    base_uri, count, frames_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    frames = []

    class RecordingClient(JetstreamClient):
        # The frames as received, before the client's own decoding.
        def _decode_frame(self, raw_frame):
            frames.append(raw_frame if isinstance(raw_frame, str) else raw_frame.decode())
            return super()._decode_frame(raw_frame)

    client = RecordingClient(params={'cursor': 0}, base_uri=base_uri, compress=False, recv_timeout=20)
    received = 0

    def on_message(message) -> None:
        nonlocal received
        parsed = get_model_as_dict(message)
        record = getattr(message, 'record', None)
        if record is not None:
            # The model the SDK parsed the record into.
            parsed['recordModel'] = f'{type(record).__module__}.{type(record).__name__}'
        print(json.dumps(parsed, sort_keys=True), flush=True)
        received += 1
        if received >= count:
            client.stop()

    client.start(on_message)
    with open(frames_file, 'w', encoding='utf-8') as out:
        for frame in frames:
            out.write(frame + '\n')


if __name__ == '__main__':
    main()
