// Command probe is labbook's test pod, in place of the lesson's jolestar/go-probe: an HTTP server
// that answers every request with who it is and who it saw asking. Labs read the answers to tell
// which pod served a Service's request and whether the client's address survived the trip
// (kube-proxy's SNAT, externalTrafficPolicy, hostPort all show up in the "client" line).
//
//	GET /        text, one "key: value" per line
//	GET /json    the same as JSON (so does Accept: application/json on any path)
//	GET /healthz "ok", for readiness and liveness probes
//
// `probe get [-k] URL` is its client side (get.go).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// answer is what the probe saw; the text and JSON forms print the same fields in the same order.
type answer struct {
	Pod          string   `json:"pod"`
	PodIP        string   `json:"pod_ip"`
	Local        string   `json:"local"`
	InterfaceIPs []string `json:"interface_ips"`
	Client       string   `json:"client"`
	ClientIP     string   `json:"client_ip"`
	ClientPort   string   `json:"client_port"`
	Host         string   `json:"host"`
	Method       string   `json:"method"`
	Path         string   `json:"path"`
}

func (a answer) text() string {
	var b strings.Builder
	line := func(key, value string) { fmt.Fprintf(&b, "%s: %s\n", key, value) }
	line("pod", a.Pod)
	line("pod_ip", a.PodIP)
	line("local", a.Local)
	line("interface_ips", strings.Join(a.InterfaceIPs, " "))
	line("client", a.Client)
	line("client_ip", a.ClientIP)
	line("client_port", a.ClientPort)
	line("host", a.Host)
	line("method", a.Method)
	line("path", a.Path)
	return b.String()
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "get" {
		os.Exit(get(os.Args[2:]))
	}
	port := flag.String("port", envOr("PORT", "80"), "TCP port to listen on (env PORT)")
	flag.Parse()
	log.SetOutput(os.Stdout) // the kubelet's log file is where `kubectl logs` looks
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)

	pod := os.Getenv("POD_NAME") // the Downward API's metadata.name, when the manifest passes it
	if pod == "" {
		pod, _ = os.Hostname() // a pod's hostname is its name unless spec.hostname says otherwise
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
		logRequest(r, http.StatusOK)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a := describe(pod, r)
		if r.URL.Path == "/json" || strings.Contains(r.Header.Get("Accept"), "application/json") {
			w.Header().Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			_ = enc.Encode(a)
		} else {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprint(w, a.text())
		}
		logRequest(r, http.StatusOK)
	})

	server := &http.Server{Addr: ":" + *port, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	// As a container's PID 1, a signal without a handler is dropped by the kernel: without this
	// the kubelet's SIGTERM would go unheard until its SIGKILL after the grace period.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(shutdown)
	}()

	log.Printf("probe %s listening on %s", pod, server.Addr)
	if err := server.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// describe gathers the answer for one request: the address it arrived on (which of the pod's
// addresses, or the node's with hostNetwork) and the peer as this socket saw it, after any NAT.
func describe(pod string, r *http.Request) answer {
	a := answer{Pod: pod, InterfaceIPs: interfaceIPs(), Client: r.RemoteAddr, Host: r.Host, Method: r.Method, Path: r.URL.Path}
	if local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		a.Local = local.String()
		a.PodIP, _, _ = net.SplitHostPort(a.Local)
	}
	a.ClientIP, a.ClientPort, _ = net.SplitHostPort(r.RemoteAddr)
	return a
}

// interfaceIPs lists this network namespace's addresses that another host could reach: not
// loopback, and not IPv6 link-local, which every interface has and no Service routes to.
func interfaceIPs() []string {
	ips := []string{}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ips
	}
	for _, addr := range addrs {
		ipNet, ok := addr.(*net.IPNet)
		if !ok || ipNet.IP.IsLoopback() || ipNet.IP.IsLinkLocalUnicast() {
			continue
		}
		ips = append(ips, ipNet.IP.String())
	}
	return ips
}

func logRequest(r *http.Request, status int) {
	log.Printf("%s %s %s%s %d", r.RemoteAddr, r.Method, r.Host, r.URL.RequestURI(), status)
}

func envOr(key, fallback string) string {
	if value := os.Getenv(key); value != "" {
		return value
	}
	return fallback
}
