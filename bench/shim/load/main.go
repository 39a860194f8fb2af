// Command load is the HTTP load generator of bench/shim where wrk is not
// installed: C keep-alive connections, each sending GET URL as soon as the
// previous answer has been read, for a duration. It prints what the
// scripts read from wrk: "requests req/s" (successful requests, those
// answered 200). Go's HTTP client spends more CPU per request than wrk, so
// compare runs made with the same generator only.
//
//	load [-c 16] [-d 4s] URL
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

func main() {
	conns := flag.Int("c", 16, "connections")
	dur := flag.Duration("d", 4*time.Second, "duration")
	flag.Parse()
	if flag.NArg() != 1 || *conns < 1 {
		fmt.Fprintln(os.Stderr, "usage: load [-c N] [-d DURATION] URL")
		os.Exit(2)
	}
	ok, failed, took := run(flag.Arg(0), *conns, *dur)
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "load: %d requests failed or not answered 200\n", failed)
	}
	fmt.Printf("%d %.2f\n", ok, float64(ok)/took.Seconds())
}

// run loads url with conns connections for dur and returns the requests
// answered 200, the others, and the time taken.
func run(url string, conns int, dur time.Duration) (ok, failed int64, took time.Duration) {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Go(func() {
			var good, bad int64
			for ctx.Err() == nil {
				if get(ctx, client, url) {
					good++
				} else if ctx.Err() == nil {
					bad++
				}
			}
			mu.Lock()
			ok, failed = ok+good, failed+bad
			mu.Unlock()
		})
	}
	wg.Wait()
	return ok, failed, time.Since(start)
}

// get makes one request and reports whether it was answered 200, its body
// read whole.
func get(ctx context.Context, client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err == nil && resp.StatusCode == http.StatusOK
}
