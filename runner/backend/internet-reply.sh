# The stand-in "internet" host (network.internet in infra/cluster.yaml): socat runs this for each
# connection, in the world namespace behind the LAN's gateway. It answers any HTTP request with the
# client address it saw, so a lab can tell a node's address (NAT) from a pod's.
while read -r line; do
  [ "${#line}" -le 1 ] && break # the blank line ("\r") that ends the request head
done
body="internet $SOCAT_SOCKADDR: hello, $SOCAT_PEERADDR"
printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %s\r\n\r\n%s\n' "$((${#body} + 1))" "$body"
