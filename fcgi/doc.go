// Package fcgi speaks FastCGI 1.0 (the 1996 Open Market specification,
// FastCGI-Archives/fcgi2 doc/fcgi-spec.html) on both sides of the shim: a
// server side that Apache's mod_proxy_fcgi connects to, and a pooled client
// side that connects to php-fpm.
//
// The package is small and exact rather than general. Params are kept as an
// ordered list of exact byte names and values ([Params]); nothing is ever
// truncated, and an item that cannot be encoded is an error. Bodies stream in
// both directions with bounded memory: STDIN reaches a server [Handler] as
// it arrives, STDOUT from php-fpm reaches the caller's writer record by
// record, and a request body is written while the response is being read.
//
// The behaviour of the real peers that shaped the code (see
// docs/behaviour.md#b-fpm-params, #b-apache-params, #b-fpm-connections, #b-env-to-fpm):
//
//   - php-fpm reads each name-value pair from a single PARAMS record and
//     resets the connection when a pair is split across two, so the writer
//     puts every pair inside one record and refuses a pair that cannot fit
//     ([ErrParamTooLarge]). The reader still accepts pairs that straddle
//     records, as the specification allows.
//   - php-fpm does not multiplex (FCGI_MPXS_CONNS=0) and ignores
//     ABORT_REQUEST, so the client sends one request at a time per
//     connection with request id 1 and closes the connection to abort.
//   - A kept-alive connection pins one php-fpm worker for as long as it stays
//     open, so [Client.MaxConns] bounds open connections and must not exceed
//     the pool's pm.max_children.
//   - php-fpm hangs when CONTENT_LENGTH is absent and the body is not empty,
//     so the client sends it with every body, spooling one of unknown
//     length; an empty body goes without it, as Apache sends a GET.
//   - Apache uses request id 1, never splits a pair and sets FCGI_KEEP_CONN
//     only with enablereuse=on; the server side handles both.
//
// The package never logs; connection-level errors on the server side are
// reported through [Server.ConnError].
package fcgi
