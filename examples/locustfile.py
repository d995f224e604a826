"""Load-test a Realtime endpoint from many machines with Locust and rtc's client.

    pip install 'realtime-cli[load]'
    rtc serve --port 8765 &                          # or any endpoint; the key from OPENAI_API_KEY
    locust -f examples/locustfile.py --headless --master --expect-workers 2 \
        -u 20 -r 5 -t 30s --host ws://127.0.0.1:8765/v1/realtime &
    locust -f examples/locustfile.py --worker &      # on each load machine (--master-host=...)
    locust -f examples/locustfile.py --worker

Each user holds one Realtime session and repeats one turn (a user message and a
response.create); Locust's table shows three rows of type "realtime": "connect", "first delta"
and "done" (milliseconds from the response.create), and failed turns by reason.
"""

from realtime_cli.tools.locust_user import RealtimeUser


class Turn(RealtimeUser):
    prompt = "Say hello"
    modalities = ("text",)
