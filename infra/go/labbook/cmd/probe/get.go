package main

// `probe get [-k] URL`: an HTTP(S) client in the pod, because busybox's wget speaks only old TLS and
// cannot talk to the apiserver (ECDSA certificates). -k skips verifying the server's certificate, as
// `curl -k` does; the body goes to stdout, and a status other than 2xx exits 1.

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func get(args []string) int {
	flags := flag.NewFlagSet("probe get", flag.ContinueOnError)
	insecure := flags.Bool("k", false, "do not verify the server's certificate")
	timeout := flags.Duration("timeout", 10*time.Second, "give up after this long")
	if err := flags.Parse(args); err != nil || flags.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: probe get [-k] [-timeout 10s] URL")
		return 2
	}
	client := &http.Client{
		Timeout:   *timeout,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: *insecure}}, // #nosec G402 -- asked for with -k
	}
	response, err := client.Get(flags.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe get:", err)
		return 1
	}
	defer response.Body.Close()
	if _, err := io.Copy(os.Stdout, response.Body); err != nil {
		fmt.Fprintln(os.Stderr, "probe get:", err)
		return 1
	}
	if response.StatusCode/100 != 2 {
		fmt.Fprintln(os.Stderr, "probe get:", response.Status)
		return 1
	}
	return 0
}
