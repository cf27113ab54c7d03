"""A course-style client (grpcio, stubs from course-protos/) against a running Tiny SNS.

usage: course_client.py STUBS_DIR COORDINATOR_HOST:PORT

Logs in users 1 and 2 (clusters 1 and 2), waits for sync, follows, lists, posts through the Timeline
stream and reads it back on the follower's Timeline stream, unfollows. Prints 'interop client ok' on
success; exits 1 with the first mismatch otherwise.
"""
import queue
import sys
import threading
import time

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import coordinator_pb2 as coord  # noqa: E402
import coordinator_pb2_grpc as coord_grpc  # noqa: E402
import sns_pb2 as sns  # noqa: E402
import sns_pb2_grpc as sns_grpc  # noqa: E402

COORDINATOR = sys.argv[2]
DEADLINE = 20.0


def expect(what, got, want):
    if got != want:
        print(f"interop client FAILED: {what}: got {got!r}, want {want!r}", flush=True)
        sys.exit(1)
    print(f"ok: {what} -> {got!r}", flush=True)


def master_of(user):
    with grpc.insecure_channel(COORDINATOR) as channel:
        info = coord_grpc.CoordServiceStub(channel).GetServer(coord.ID(id=user), timeout=5)
    return f"{info.hostname}:{info.port}"


def stub_for(user):
    return sns_grpc.SNSServiceStub(grpc.insecure_channel(master_of(user)))


def eventually(condition):
    end = time.time() + DEADLINE
    while time.time() < end:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def timeline(stub, user, outgoing):
    """Opens a Timeline stream: first message names the user, then each item of `outgoing` is a post."""
    def messages():
        yield sns.Message(username=str(user), msg="join")
        while True:
            text = outgoing.get()
            if text is None:
                return
            yield sns.Message(username=str(user), msg=text)
    return stub.Timeline(messages())


def main():
    one, two = stub_for(1), stub_for(2)
    expect("Login 1", one.Login(sns.Request(username="1"), timeout=5).msg, "SUCCESS")
    expect("Login 2", two.Login(sns.Request(username="2"), timeout=5).msg, "SUCCESS")
    expect("Login 0", one.Login(sns.Request(username="0"), timeout=5).msg, "FAILURE_INVALID_USERNAME")
    expect("user 2 listed for 1 after sync",
           eventually(lambda: "2" in one.List(sns.Request(username="1"), timeout=5).all_users), True)
    expect("Follow 1->2", one.Follow(sns.Request(username="1", arguments=["2"]), timeout=5).msg, "SUCCESS")
    expect("Follow 1->2 again", one.Follow(sns.Request(username="1", arguments=["2"]), timeout=5).msg,
           "FAILURE_ALREADY_EXISTS")
    expect("Follow 1->999", one.Follow(sns.Request(username="1", arguments=["999"]), timeout=5).msg,
           "FAILURE_INVALID_USERNAME")
    expect("UnFollow 1->999 (unknown user)",
           one.UnFollow(sns.Request(username="1", arguments=["999"]), timeout=5).msg, "FAILURE_INVALID_USERNAME")
    expect("1 among 2's followers after sync",
           eventually(lambda: "1" in two.List(sns.Request(username="2"), timeout=5).followers), True)

    # User 1 enters timeline mode; user 2 posts through its own Timeline stream.
    received = queue.Queue()
    reader_outgoing = queue.Queue()
    reader = timeline(one, 1, reader_outgoing)

    def read():
        try:
            for message in reader:
                received.put(message)
        except grpc.RpcError:
            pass
    threading.Thread(target=read, daemon=True).start()

    writer_outgoing = queue.Queue()
    writer = timeline(two, 2, writer_outgoing)
    threading.Thread(target=lambda: [None for _ in writer], daemon=True).start()
    writer_outgoing.put("hello from a python course client")

    message = None
    end = time.time() + DEADLINE
    while time.time() < end:
        try:
            candidate = received.get(timeout=0.5)
        except queue.Empty:
            continue
        if candidate.msg == "hello from a python course client":
            message = candidate
            break
    expect("post arrives on 1's timeline stream", message is not None, True)
    expect("post author", message.username, "2")
    expect("post has a timestamp", message.timestamp.seconds > 0, True)
    writer_outgoing.put(None)
    reader_outgoing.put(None)
    reader.cancel()

    expect("UnFollow 1->2", one.UnFollow(sns.Request(username="1", arguments=["2"]), timeout=5).msg, "SUCCESS")
    expect("UnFollow 1->2 again", one.UnFollow(sns.Request(username="1", arguments=["2"]), timeout=5).msg,
           "FAILURE_NOT_A_FOLLOWER")
    print("interop client ok", flush=True)


if __name__ == "__main__":
    main()
