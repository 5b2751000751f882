// Command pause is the pod sandbox process: PID 1 of every pod, holding the pod's namespaces
// open while its containers come and go. It does nothing but wait, which is the point.
//
// As PID 1 of its PID namespace (when the pod shares one) it inherits every orphaned process
// there, so it must reap them or they stay zombies until the pod dies. And the kernel drops any
// signal PID 1 has no handler for, so SIGINT/SIGTERM need explicit handlers, or the kubelet's
// stop would wait for its grace period and end in SIGKILL.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// One buffered slot per kind is enough: SIGCHLD coalesces anyway, so every wake-up reaps
	// until nothing is left rather than one child per signal.
	children := make(chan os.Signal, 1)
	signal.Notify(children, syscall.SIGCHLD)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)

	for {
		select {
		case <-children:
			reap()
		case sig := <-stop:
			fmt.Fprintf(os.Stderr, "pause: shutting down, got %v\n", sig)
			os.Exit(0)
		}
	}
}

// reap collects every child that has exited, without blocking on the ones still running.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil { // 0: children left but none exited; ECHILD: no children at all
			return
		}
	}
}
