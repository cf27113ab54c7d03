"""A course-style coordinator (grpcio, stubs from course-protos/) that sends every client to one master.

usage: course_coordinator.py STUBS_DIR LISTEN_HOST:PORT MASTER_HOST:PORT

Answers GetServer with MASTER (server 1 of cluster 1, type "master"); prints 'listening' once serving and
runs until SIGTERM. Shows that `sns client` works against any CoordService, not only ours.
"""
import signal
import sys
import threading
from concurrent import futures

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import coordinator_pb2 as coord  # noqa: E402
import coordinator_pb2_grpc as coord_grpc  # noqa: E402

LISTEN, MASTER = sys.argv[2], sys.argv[3]


class Coordinator(coord_grpc.CoordServiceServicer):
    def GetServer(self, request, context):
        if request.id <= 0:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad client id")
        host, port = MASTER.rsplit(":", 1)
        print(f"GetServer({request.id}) -> {MASTER}", flush=True)
        return coord.ServerInfo(serverID=1, hostname=host, port=port, type="master", clusterID=1)


def main():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    coord_grpc.add_CoordServiceServicer_to_server(Coordinator(), server)
    server.add_insecure_port(LISTEN)
    server.start()
    print("listening", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    server.stop(0.5)


if __name__ == "__main__":
    main()
