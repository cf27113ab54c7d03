"""A stand-in for the course's C++ client `tsc` (client.cc + tsc.cc of MP2.1), in Python grpcio.

Written from the course client's documented behaviour (not from its code), so that the conformance
tests see exactly the bytes on stdout that a student's client shows: same prompt, same title, same
messages, same timeline lines. Tests drive it through a stdin pipe and compare its stdout.

usage: SNS_STUBS=DIR tsc.py [-h COORDINATOR_HOST] [-k COORDINATOR_PORT] [-u USER_ID]
       (defaults: localhost, 9090, 1)

SNS_STUBS is the directory of the stubs made by `Tests/Interop/generate-python.sh DIR`
(sns_pb2, sns_pb2_grpc, coordinator_pb2, coordinator_pb2_grpc); it is put first on sys.path.

Departures from the C++ client, all where it would hang or crash: EOF on stdin in command mode exits 0
(the C++ client spins); in timeline mode EOF half-closes the stream and the client exits 0 once the
server ends it (printing `Timeline RPC failed` to stderr if it ended with an error); the client also
exits when the server ends the stream first. SIGINT exits at once with status 130.
Only the process's output goes to stdout; diagnostics go to stderr prefixed with "tsc.py: ".
"""
import getopt
import os
import queue
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.environ.get("SNS_STUBS", "."))
import grpc  # noqa: E402
from google.protobuf.timestamp_pb2 import Timestamp  # noqa: E402
import coordinator_pb2 as coord  # noqa: E402
import coordinator_pb2_grpc as coord_grpc  # noqa: E402
import sns_pb2 as sns  # noqa: E402
import sns_pb2_grpc as sns_grpc  # noqa: E402

MAX_DATA = 256  # fgets(buf, MAX_DATA, stdin) reads at most MAX_DATA - 1 bytes
REPLY_CODES = ("SUCCESS", "FAILURE_ALREADY_EXISTS", "FAILURE_NOT_EXISTS", "FAILURE_INVALID_USERNAME",
               "FAILURE_NOT_A_FOLLOWER", "FAILURE_INVALID")
DISPLAY = {
    "SUCCESS": "Command completed successfully",
    "FAILURE_ALREADY_EXISTS": "Input username already exists, command failed",
    "FAILURE_NOT_EXISTS": "Input username does not exists, command failed",
    "FAILURE_INVALID_USERNAME": "Command failed with invalid username",
    "FAILURE_NOT_A_FOLLOWER": "Command failed with not a follower",
    "FAILURE_INVALID": "Command failed with invalid command",
    "FAILURE_UNKNOWN": "Command failed with unknown reason",
}
TITLE = ("\n========= TINY SNS CLIENT =========\n"
         " Command Lists and Format:\n"
         " FOLLOW <username>\n"
         " UNFOLLOW <username>\n"
         " LIST\n"
         " TIMELINE\n"
         "=====================================\n")

STDIN = sys.stdin.buffer


def out(text):
    """Writes text (no newline added) to stdout as UTF-8 and flushes: tests read through a pipe."""
    sys.stdout.buffer.write(text.encode("utf-8", "replace"))
    sys.stdout.buffer.flush()


def log(text):
    print(f"tsc.py: {text}", file=sys.stderr, flush=True)


def leave(code):
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no interpreter teardown: daemon threads may sit in a blocking read


def decode(data):  # proto strings must be UTF-8; fgets may cut a character in two
    return data.decode("utf-8", "replace")


def comm_status(msg):
    return msg if msg in REPLY_CODES else "FAILURE_UNKNOWN"


def make_message(user, msg):  # MakeMessage(): timestamp = time(NULL), nanos 0
    return sns.Message(username=user, msg=msg, timestamp=Timestamp(seconds=int(time.time()), nanos=0))


def connect(host, port, user):
    """connectTo(): the coordinator names the server, then Login there. Returns (stub, comm status)."""
    match = re.match(rb"\s*([+-]?\d+)", user.encode())  # std::stoi: leading integer
    if match is None:
        log(f"user id {user!r} is not a number")
        return None, "FAILURE_INVALID"
    try:
        with grpc.insecure_channel(f"{host}:{port}") as channel:
            info = coord_grpc.CoordServiceStub(channel).GetServer(coord.ID(id=int(match.group(1))))
    except grpc.RpcError as error:
        log(f"GetServer failed: {error.code()}")
        return None, "FAILURE_INVALID"
    if info.serverID == -1:
        return None, "FAILURE_INVALID"
    stub = sns_grpc.SNSServiceStub(grpc.insecure_channel(f"{info.hostname}:{info.port}"))
    try:
        return stub, comm_status(stub.Login(sns.Request(username=user)).msg)
    except grpc.RpcError as error:
        log(f"Login failed: {error.code()}")
        return stub, "FAILURE_UNKNOWN"


def get_command():
    """getCommand(): prompts until a well-formed command; returns it as bytes (uppercased verb)."""
    while True:
        out("Cmd> ")
        line = STDIN.readline()
        if not line:
            leave(0)
        if line.endswith(b"\n"):
            line = line[:-1]
        index = line.find(b" ")
        if index >= 0:
            cmd = line[:index].upper()  # ASCII-only, like toupper in the C locale
            if cmd not in (b"FOLLOW", b"UNFOLLOW"):
                out("Invalid Input -- Only FOLLOW and UNFOLLOW commands have Arguments\n")
                continue
            if index + 1 == len(line):
                out("Invalid Input -- No Arguments Given\n")
                continue
            return cmd + b" " + line[index + 1:]
        line = line.upper()
        if line in (b"LIST", b"TIMELINE"):
            return line
        out("Invalid Command\n")


def process_command(stub, user, command):
    """processCommand() + displayCommandReply() for LIST, FOLLOW and UNFOLLOW."""
    words = command.split()  # bytes.split(): C isspace
    cmd = words[0]
    username2 = decode(words[1]) if len(words) > 1 else ""
    if cmd == b"LIST":
        try:
            reply = stub.List(sns.Request(username=user))
        except grpc.RpcError:
            out(DISPLAY["FAILURE_UNKNOWN"] + "\n")
            return
        out(DISPLAY["SUCCESS"] + "\n"
            + "All users: " + "".join(name + ", " for name in reply.all_users)
            + "\nFollowers: " + "".join(name + ", " for name in reply.followers) + "\n")
        return
    rpc = stub.Follow if cmd == b"FOLLOW" else stub.UnFollow
    try:
        status = comm_status(rpc(sns.Request(username=user, arguments=[username2])).msg)
    except grpc.RpcError:
        status = "FAILURE_UNKNOWN"
    out(DISPLAY[status] + "\n")


def timeline(stub, user):
    """Timeline mode: never returns. Posts are stdin lines as fgets reads them (with their "\\n")."""
    out(DISPLAY["SUCCESS"] + "\n")
    out("Now you are in the timeline\n")
    posts = queue.Queue()

    def writer():
        while True:
            chunk = STDIN.readline(MAX_DATA - 1)
            if not chunk:
                posts.put(None)  # EOF: writes done
                return
            if chunk.startswith(b"\n"):
                continue  # fgets skips blank lines
            posts.put(make_message(user, decode(chunk)))

    def requests():
        yield make_message(user, "")
        while True:
            message = posts.get()
            if message is None:
                return
            yield message

    call = stub.Timeline(requests())
    threading.Thread(target=writer, daemon=True).start()
    try:
        for message in call:
            out(f"{message.username} ({time.ctime(message.timestamp.seconds)}) >> {message.msg}\n")
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.OK:
            print("Timeline RPC failed", file=sys.stderr, flush=True)
            log(f"Timeline ended with {error.code()}: {error.details()}")
    leave(0)


def main():
    signal.signal(signal.SIGINT, lambda *_: os._exit(130))
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # like a C++ program writing to a closed pipe
    host, port, user = "localhost", "9090", "1"
    try:
        options, _ = getopt.gnu_getopt(sys.argv[1:], "h:k:u:")
    except getopt.GetoptError as error:
        log(str(error))
        sys.stderr.write("Invalid Command Line Argument\n")
        leave(2)
    for option, value in options:
        if option == "-h":
            host = value
        elif option == "-k":
            port = value
        else:
            user = value
    stub, status = connect(host, port, user)
    if status != "SUCCESS":
        out("connection failed: -1\n")
        leave(1)
    out(TITLE)
    while True:
        command = get_command()
        if command == b"TIMELINE":
            timeline(stub, user)
        process_command(stub, user, command)


if __name__ == "__main__":
    main()
