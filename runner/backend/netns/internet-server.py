# The stand-in "internet" host (network.internet in infra/cluster.yaml), run by labbook in the
# world namespace, behind the LAN's gateway. It answers every GET with who it saw as the client,
# so a lab can tell whether its traffic left with a node's address (NAT) or a pod's.
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "labbook-internet/1"
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        body = f"internet {self.server.server_address[0]}: hello, {self.client_address[0]}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer((sys.argv[1], 80), Handler).serve_forever()
