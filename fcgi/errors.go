package fcgi

import "errors"

// Errors about malformed input. Each is returned wrapped with the record
// type, request id or offset that triggered it; a server or client that meets
// one closes that connection only.
var (
	// ErrBadVersion means a record header carries a version other than 1.
	ErrBadVersion = errors.New("fcgi: unsupported protocol version")

	// ErrUnknownType means a record type outside 1..11 arrived where a
	// management record (request id 0) was not allowed.
	ErrUnknownType = errors.New("fcgi: unknown record type")

	// ErrUnexpectedRecord means a known record type arrived where the
	// protocol does not allow it (STDOUT sent to a server, PARAMS after the
	// params stream ended, DATA for a responder, ...).
	ErrUnexpectedRecord = errors.New("fcgi: unexpected record")

	// ErrMalformedRecord means a record's content does not have the shape
	// its type requires (BEGIN_REQUEST or END_REQUEST content not 8 bytes,
	// a management record with a non-zero request id, ...), or the stream
	// ended inside a record.
	ErrMalformedRecord = errors.New("fcgi: malformed record")

	// ErrMalformedParams means a name-value pair's lengths run past the end
	// of the params stream.
	ErrMalformedParams = errors.New("fcgi: malformed name-value pair")

	// ErrRequestIDInUse means BEGIN_REQUEST named a request id that is
	// still active on the connection.
	ErrRequestIDInUse = errors.New("fcgi: request id in use")

	// ErrWrongRequestID means a response record named a request id other
	// than the one the client sent.
	ErrWrongRequestID = errors.New("fcgi: response for another request id")
)

// Errors about sizes. Nothing is ever truncated: an item that cannot be
// encoded or accepted is refused with one of these.
var (
	// ErrParamTooLarge means one name-value pair does not fit in a single
	// PARAMS record (65535 bytes with its length bytes). php-fpm resets
	// the connection when a pair is split across records
	// (docs/behaviour.md#b-fpm-params), so the encoder refuses instead of
	// splitting or truncating.
	ErrParamTooLarge = errors.New("fcgi: name-value pair does not fit in one record")

	// ErrParamsTooLarge means a params stream is larger than the server's
	// Server.MaxParamsBytes.
	ErrParamsTooLarge = errors.New("fcgi: params stream too large")

	// ErrContentLength means a request body held fewer or more bytes than
	// its declared length.
	ErrContentLength = errors.New("fcgi: request body does not match its length")

	// ErrBodyTooLarge means a request body is larger than the client's
	// Client.MaxBody; nothing of the request was sent.
	ErrBodyTooLarge = errors.New("fcgi: request body too large")
)

// Errors about the backend and the request's fate.
var (
	// ErrBackendUnavailable means the client could not connect to php-fpm
	// (socket missing, connection refused, dial timeout).
	ErrBackendUnavailable = errors.New("fcgi: backend unavailable")

	// ErrIncompleteResponse means the backend closed the connection before
	// END_REQUEST, for example because the worker was killed mid-response.
	ErrIncompleteResponse = errors.New("fcgi: connection closed before END_REQUEST")

	// ErrCantMultiplex means the backend ended the request with
	// FCGI_CANT_MPX_CONN: it was busy with another request on the
	// connection.
	ErrCantMultiplex = errors.New("fcgi: backend cannot multiplex connections")

	// ErrOverloaded means the backend ended the request with
	// FCGI_OVERLOADED.
	ErrOverloaded = errors.New("fcgi: backend overloaded")

	// ErrPoolBusy means no connection to php-fpm became free within
	// Client.QueueTimeout: the request was not sent.
	ErrPoolBusy = errors.New("fcgi: no connection to the backend became free")

	// ErrUnknownRole means the backend ended the request with
	// FCGI_UNKNOWN_ROLE.
	ErrUnknownRole = errors.New("fcgi: backend does not support the role")

	// ErrAborted is the cause of a server-side request context canceled by
	// ABORT_REQUEST (see context.Cause).
	ErrAborted = errors.New("fcgi: request aborted by the web server")

	// ErrConnClosed is the cause of a server-side request context canceled
	// because its connection was closed or failed.
	ErrConnClosed = errors.New("fcgi: connection closed")

	// ErrClientClosed is returned by Client.Do after Client.Close.
	ErrClientClosed = errors.New("fcgi: client closed")

	// ErrServerClosed is returned by Server.Serve after Server.Close or
	// Server.Shutdown.
	ErrServerClosed = errors.New("fcgi: server closed")

	// ErrInvalidConfig means a Client or Server field holds an impossible
	// value (for example KeepAlive without MaxConns).
	ErrInvalidConfig = errors.New("fcgi: invalid configuration")
)

// statusError maps a non-complete protocol status to its sentinel.
func statusError(s ProtocolStatus) error {
	switch s {
	case StatusCantMultiplex:
		return ErrCantMultiplex
	case StatusOverloaded:
		return ErrOverloaded
	case StatusUnknownRole:
		return ErrUnknownRole
	}
	return ErrMalformedRecord
}
