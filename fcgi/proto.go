package fcgi

import "fmt"

// Protocol constants, from the FastCGI specification (fcgi-spec.html, §8
// "Types and Constants").

// version1 is the only protocol version (FCGI_VERSION_1, §8).
const version1 = 1

// headerLen is the size of a record header (FCGI_HEADER_LEN, §3.3).
const headerLen = 8

// maxContent is the largest content length of one record: contentLength is
// two bytes (§3.3).
const maxContent = 65535

// recType is a record type (§8).
type recType uint8

const (
	typeBeginRequest    recType = 1  // FCGI_BEGIN_REQUEST, §5.1
	typeAbortRequest    recType = 2  // FCGI_ABORT_REQUEST, §5.4
	typeEndRequest      recType = 3  // FCGI_END_REQUEST, §5.5
	typeParams          recType = 4  // FCGI_PARAMS, §5.2
	typeStdin           recType = 5  // FCGI_STDIN, §5.3
	typeStdout          recType = 6  // FCGI_STDOUT, §5.3
	typeStderr          recType = 7  // FCGI_STDERR, §5.3
	typeData            recType = 8  // FCGI_DATA, §5.3
	typeGetValues       recType = 9  // FCGI_GET_VALUES, §4.1
	typeGetValuesResult recType = 10 // FCGI_GET_VALUES_RESULT, §4.1
	typeUnknownType     recType = 11 // FCGI_UNKNOWN_TYPE, §4.2
	maxKnownType                = typeUnknownType
)

var typeNames = [...]string{
	typeBeginRequest:    "BEGIN_REQUEST",
	typeAbortRequest:    "ABORT_REQUEST",
	typeEndRequest:      "END_REQUEST",
	typeParams:          "PARAMS",
	typeStdin:           "STDIN",
	typeStdout:          "STDOUT",
	typeStderr:          "STDERR",
	typeData:            "DATA",
	typeGetValues:       "GET_VALUES",
	typeGetValuesResult: "GET_VALUES_RESULT",
	typeUnknownType:     "UNKNOWN_TYPE",
}

func (t recType) String() string {
	if t >= 1 && t <= maxKnownType {
		return typeNames[t]
	}
	return fmt.Sprintf("type %d", uint8(t))
}

// Role is the role field of BEGIN_REQUEST (§5.1).
type Role uint16

// Roles defined by the specification (§6). The shim only uses RoleResponder.
const (
	RoleResponder  Role = 1 // FCGI_RESPONDER
	RoleAuthorizer Role = 2 // FCGI_AUTHORIZER
	RoleFilter     Role = 3 // FCGI_FILTER
)

// String returns the specification's name for r.
func (r Role) String() string {
	switch r {
	case RoleResponder:
		return "RESPONDER"
	case RoleAuthorizer:
		return "AUTHORIZER"
	case RoleFilter:
		return "FILTER"
	}
	return fmt.Sprintf("role %d", uint16(r))
}

// flagKeepConn is the FCGI_KEEP_CONN bit of BEGIN_REQUEST flags (§5.1):
// when set, the application leaves the connection open after the request.
const flagKeepConn = 1

// ProtocolStatus is the protocolStatus field of END_REQUEST (§5.5).
type ProtocolStatus uint8

// Protocol statuses defined by the specification (§5.5).
const (
	StatusRequestComplete ProtocolStatus = 0 // FCGI_REQUEST_COMPLETE: normal end
	StatusCantMultiplex   ProtocolStatus = 1 // FCGI_CANT_MPX_CONN: a second concurrent request on a connection that does not multiplex
	StatusOverloaded      ProtocolStatus = 2 // FCGI_OVERLOADED: out of a resource such as database connections
	StatusUnknownRole     ProtocolStatus = 3 // FCGI_UNKNOWN_ROLE: the role in BEGIN_REQUEST is not supported
)

// String returns the specification's name for s.
func (s ProtocolStatus) String() string {
	switch s {
	case StatusRequestComplete:
		return "REQUEST_COMPLETE"
	case StatusCantMultiplex:
		return "CANT_MPX_CONN"
	case StatusOverloaded:
		return "OVERLOADED"
	case StatusUnknownRole:
		return "UNKNOWN_ROLE"
	}
	return fmt.Sprintf("protocol status %d", uint8(s))
}

// Names of the variables of a GET_VALUES query (§4.1).
const (
	ValueMaxConns  = "FCGI_MAX_CONNS"  // concurrent transport connections the application accepts
	ValueMaxReqs   = "FCGI_MAX_REQS"   // concurrent requests the application accepts
	ValueMpxsConns = "FCGI_MPXS_CONNS" // "0" when the application does not multiplex
)
