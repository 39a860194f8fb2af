package shim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/modphp-migrate/modphp-migrate/fcgi"
)

// ServeFCGI handles one request from Apache; it implements fcgi.Handler.
func (s *Server) ServeFCGI(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	start := time.Now()
	// Output is held until php-fpm has nothing more at hand (the client
	// flushes before it waits) or the request ends: a short response
	// leaves with END_REQUEST in one write.
	w.Buffer()
	s.stats.Requests.Add(1)
	if r.KeepConn {
		s.stats.KeptAlive.Add(1)
	}
	s.checkConfig(context.Background(), start)
	st := s.state.Load()
	info := requestInfo(r.Params)
	pool := st.route(info.DocRoot, info.Script)
	pool.stats.requests.Add(1)
	defer func() {
		d := time.Since(start)
		s.stats.observe(d)
		pool.stats.lat.observe(d)
	}()

	if !s.enterFront(r.Context()) {
		s.log.Warn("overloaded: every front worker is busy", "uri", uriOf(r.Params))
		s.answer(w, pool, http.StatusServiceUnavailable)
		return
	}
	defer func() { <-s.front }()

	params, dropped := ApplyEnvPolicy(r.Params)
	if len(dropped) > 0 {
		s.stats.DroppedParams.Add(int64(len(dropped)))
		pool.stats.drops.Add(int64(len(dropped)))
		s.log.Warn("dropped params php-fpm would obey", "names", dropped, "uri", uriOf(r.Params))
	}
	if added := len(params) + len(dropped) - len(r.Params); added > 0 {
		s.stats.RedirectCopies.Add(int64(added))
		pool.stats.redirects.Add(int64(added))
	}

	var res *Resolution
	if info.Script != "" {
		var err error
		res, err = st.resolver.Resolve(info)
		if err != nil {
			var ae *AccessError
			if errors.As(err, &ae) {
				s.log.Error("access file rejected as httpd with mod_php would", "where", ae.Pos.String(), "error", ae.Msg, "status", ae.Status, "script", info.Script)
				s.answer(w, pool, ae.Status)
				return
			}
			s.log.Error("resolving settings", "err", err, "script", info.Script)
			s.answer(w, pool, http.StatusInternalServerError)
			return
		}
		if res.EngineOff {
			// mod_php would send the source, php-fpm would run it: both
			// wrong for a directory meant to hold no live PHP.
			s.log.Info("php_flag engine off: refused", "script", info.Script)
			s.answer(w, pool, http.StatusForbidden)
			return
		}
		for _, sk := range res.Skipped {
			s.log.Warn("php_* line in access file forbidden by AllowOverride: skipped (Nonfatal=Override)", "key", sk.Key, "where", sk.Pos.String(), "script", info.Script)
		}
		if s.log.Enabled(r.Context(), slog.LevelDebug) {
			for _, ig := range res.Ignored {
				s.log.Debug("setting ignored as mod_php ignores it", "key", ig.Key, "where", ig.Pos.String(), "reason", ig.Reason)
			}
		}
	}

	be := pool.be.Load()
	settings, err := pool.phpValue(be, res, s.log)
	if errors.Is(err, ErrUnresettable) {
		s.log.Error("refusing request: a setting PHP cannot reset would leak to other sites on the worker", "err", err, "script", info.Script)
		s.answer(w, pool, http.StatusInternalServerError)
		return
	}
	if err != nil {
		s.log.Error("refusing request: PHP_VALUE cannot be encoded safely", "err", err, "script", info.Script)
		s.answer(w, pool, http.StatusInternalServerError)
		return
	}

	req := &fcgi.Request{Params: params, Body: r.Stdin, ContentLength: contentLength(r.Params), ConnParams: settings.connParams, Stop: r.Stopper()}
	if req.ContentLength < 0 {
		req.Body, req.ContentLength = peekBody(r.Stdin)
	}
	cw := &countingWriter{w: w, f: w}
	s.stats.Forwarded.Add(1)
	pool.stats.forwarded.Add(1)
	result, err := be.client.Do(r.Context(), req, cw)
	if result != nil && len(result.Stderr) > 0 {
		// Apache logs it as AH01071, as it would from php-fpm directly.
		w.Stderr().Write(result.Stderr)
	}
	if errors.Is(err, fcgi.ErrPoolBusy) {
		// Not sent: pm.max_children requests ran for poolQueueWait.
		s.stats.Forwarded.Add(-1)
		pool.stats.forwarded.Add(-1)
		s.log.Warn("overloaded: php-fpm pool busy", "pool", pool.addr.String(), "err", err)
		s.answer(w, pool, http.StatusServiceUnavailable)
		return
	}
	if errors.Is(err, fcgi.ErrBodyTooLarge) {
		// Refused before php-fpm was contacted, as LimitRequestBody
		// refuses it.
		s.log.Warn("request body too large", "limit", s.cfg.MaxBody, "err", err, "script", info.Script)
		s.answer(w, pool, http.StatusRequestEntityTooLarge)
		return
	}
	if err != nil {
		s.stats.BackendErrors.Add(1)
		pool.stats.backendErrors.Add(1)
		if r.Context().Err() != nil {
			// Apache went away (the client aborted): Do has closed the
			// php-fpm connection, the only way to stop the script
			// (php-fpm ignores ABORT_REQUEST, docs/behaviour.md#b-fpm-connections).
			s.log.Info("request aborted by apache", "cause", context.Cause(r.Context()), "script", info.Script)
			return
		}
		code := backendStatus(err)
		s.log.Error("php-fpm request failed", "pool", pool.addr.String(), "err", err, "status", code, "script", info.Script)
		if cw.n == 0 {
			s.answer(w, pool, code)
		}
		return
	}
	if result != nil {
		w.SetAppStatus(result.AppStatus)
	}
}

// backendStatus is the answer to a request php-fpm did not serve, as
// mod_proxy_fcgi gives it: 503 when the pool cannot be reached (refused,
// missing socket, or no connection within the dial timeout), is
// overloaded, or the connection ended before any output (a worker killed
// or stopped by a reload mid-script: Apache's AH01075 "Error dispatching
// request", TestIntegrationReloadRunsOnce); 504 when php-fpm sent nothing
// within the backend timeout; 502 when it failed otherwise (a malformed
// answer).
func backendStatus(err error) int {
	switch {
	case errors.Is(err, fcgi.ErrBackendUnavailable), errors.Is(err, fcgi.ErrOverloaded),
		errors.Is(err, fcgi.ErrIncompleteResponse):
		return http.StatusServiceUnavailable
	case errors.Is(err, os.ErrDeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}

// answer sends the shim's own error answer and counts it.
func (s *Server) answer(w io.Writer, pool *poolRuntime, code int) {
	switch code {
	case http.StatusForbidden:
		s.stats.Forbidden.Add(1)
	case http.StatusRequestEntityTooLarge:
		s.stats.BodyTooLarge.Add(1)
	case http.StatusBadGateway:
		s.stats.BadGateway.Add(1)
	case http.StatusServiceUnavailable:
		s.stats.Overloaded.Add(1)
	case http.StatusGatewayTimeout:
		s.stats.GatewayTimeouts.Add(1)
	default:
		s.stats.ServerErrors.Add(1)
	}
	pool.stats.answered(code)
	writeError(w, code)
}

// enterFront takes a front worker, waiting at most frontQueueWait.
func (s *Server) enterFront(ctx context.Context) bool {
	return takeSlot(ctx, s.front, frontQueueWait) == nil
}

// errNoSlot means no slot became free within the wait.
var errNoSlot = errors.New("no free slot")

// takeSlot takes a slot of the semaphore sem at once if one is free, else
// waits for one at most wait: errNoSlot then, or ctx's cause if it ends
// first. A timer is only made when the request must wait.
func takeSlot(ctx context.Context, sem chan struct{}, wait time.Duration) error {
	select {
	case sem <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case sem <- struct{}{}:
		return nil
	case <-t.C:
		return errNoSlot
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// countingWriter counts the response bytes passed to Apache, to know
// whether an error page can still be sent.
type countingWriter struct {
	w io.Writer
	f fcgi.Flusher
	n int64
}

// Flush passes held output on to Apache.
func (c *countingWriter) Flush() error { return c.f.Flush() }

// Write counts and passes p on.
func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeError answers with a status and a short page, as CGI output that
// mod_proxy_fcgi turns into the HTTP response.
func writeError(w io.Writer, code int) {
	text := http.StatusText(code)
	body := fmt.Sprintf("<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>%d %s</title>\n</head><body>\n<h1>%s</h1>\n</body></html>\n", code, text, text)
	fmt.Fprintf(w, "Status: %d %s\r\nContent-Type: text/html; charset=iso-8859-1\r\nContent-Length: %d\r\n\r\n%s", code, text, len(body), body)
}

// contentLength reads CONTENT_LENGTH; -1 when absent or invalid, so the
// client spools the body to learn it (Apache may stream a body without a
// length, docs/behaviour.md#b-apache-body).
func contentLength(ps fcgi.Params) int64 {
	v, ok := ps.Lookup("CONTENT_LENGTH")
	if !ok || v == "" {
		return -1
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// peekBody looks at a body of unknown length (no CONTENT_LENGTH, as for
// every GET from mod_proxy_fcgi): an empty STDIN stream is a body of
// length 0, which spares the client spooling it; otherwise the first byte
// is put back and the length stays unknown.
func peekBody(stdin io.Reader) (io.Reader, int64) {
	var b [1]byte
	for {
		n, err := stdin.Read(b[:])
		if n > 0 {
			return io.MultiReader(bytes.NewReader(b[:n]), stdin), -1
		}
		if err == io.EOF {
			return nil, 0
		}
		if err != nil {
			return errReader{err}, -1
		}
	}
}

// errReader returns err from every Read.
type errReader struct{ err error }

// Read returns the error.
func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func uriOf(ps fcgi.Params) string {
	v, _ := ps.Lookup("REQUEST_URI")
	return v
}

// StripProxyPrefix returns the file path inside a SCRIPT_FILENAME that
// mod_proxy_fcgi prefixed with proxy:fcgi://host[:port] (ProxyFCGIBackendType
// FPM, the default; docs/behaviour.md#b-apache-params). A value without the
// prefix is returned as is.
func StripProxyPrefix(sf string) string {
	rest, ok := strings.CutPrefix(sf, "proxy:fcgi://")
	if !ok {
		return sf
	}
	i := strings.IndexByte(rest, '/')
	if i < 0 {
		return ""
	}
	return rest[i:]
}

// requestInfo finds the script, its document root and the URI of a
// request. With ProxyPassMatch the path-info is still part of
// SCRIPT_FILENAME (docs/behaviour.md#b-apache-params), so the script is the longest leading
// part of the path that is a regular file, as php-fpm's cgi.fix_pathinfo
// finds it.
func requestInfo(ps fcgi.Params) Request {
	get := func(n string) string { v, _ := ps.Lookup(n); return v }
	sf := StripProxyPrefix(get("SCRIPT_FILENAME"))
	var info Request
	info.ServerName = get("SERVER_NAME")
	info.URI = get("SCRIPT_NAME") + get("PATH_INFO")
	if sf == "" || !path.IsAbs(sf) || hasDotDot(sf) {
		return info
	}
	info.Script = findScript(path.Clean(sf))
	info.PathInfo = get("PATH_INFO") != "" || info.Script != "" && info.Script != path.Clean(sf)
	for _, n := range []string{"CONTEXT_DOCUMENT_ROOT", "DOCUMENT_ROOT"} {
		if d := get(n); d != "" && path.IsAbs(d) {
			if _, _, in := splitRoot(d, path.Dir(info.Script)); in || info.DocRoot == "" {
				info.DocRoot = path.Clean(d)
				if in {
					break
				}
			}
		}
	}
	return info
}

func hasDotDot(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if seg == ".." {
			return true
		}
	}
	return false
}

// findScript returns the longest prefix of p that is a regular file, or "".
func findScript(p string) string {
	for q := p; q != "/" && q != "."; q = path.Dir(q) {
		_, regular, err := statID(q)
		if err == nil {
			if regular {
				return q
			}
			return ""
		}
	}
	return ""
}
